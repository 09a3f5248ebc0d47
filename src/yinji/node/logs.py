"""The node's operational log: JSON lines (one object per record: time, level, logger,
message, and the exception if any), rotated by size (stdlib `RotatingFileHandler`; the JSON
formatter is `python-json-logger`).

Why: operators feed logs to their collectors (ELK, Loki, Splunk) that parse JSON, and an
unbounded log file fills the disk. This is not the audit log: it holds operational messages
(start, warnings, failures), never customer data, tokens or request bodies -- the code that
logs follows the same rule as audit entries.

node.yaml: `log_max_mb` (default 10) and `log_backups` (default 5) -> <home>/logs/node.log,
node.log.1, ... ; `log_level` (default INFO).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from yinji.node.config import NodeConfig

LOGGERS = ("yinji", "uvicorn.error")
_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_file(cfg: NodeConfig) -> Path:
    return cfg.home / "logs" / "node.log"


def setup_logging(cfg: NodeConfig) -> logging.Handler:
    """Attach (once per file) a rotating JSON-lines handler to the yinji and uvicorn loggers;
    returns it."""
    path = log_file(cfg)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    for name in LOGGERS:
        for h in logging.getLogger(name).handlers:
            if getattr(h, "baseFilename", None) == str(path.resolve()):
                return h
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=cfg.log_max_mb * 1024 * 1024, backupCount=cfg.log_backups,
        encoding="utf-8")
    handler.setFormatter(JsonFormatter(_FIELDS, rename_fields={"levelname": "level",
                                                               "name": "logger",
                                                               "asctime": "time"}))
    level = logging.getLevelName(cfg.log_level.upper())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if name == "yinji":
            logger.setLevel(level)
    return handler


__all__ = ["log_file", "setup_logging"]
