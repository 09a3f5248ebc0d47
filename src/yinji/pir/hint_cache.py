"""Members' hints kept on the client's disk between runs of `yinji pir query`.

A hint is public data of one version of a member's list (the LWE parameters, the layout and
the hint matrix, ~34 MB at 10^6 records), so a one-key query need not download it again: the
client queries with the cached version, and the member answers "stale" if it has published a
newer one -- only then is the hint downloaded (and cached). Files are written atomically
(temporary file + rename) with owner-only permissions; an unreadable or mismatched entry
counts as absent and is removed. At most `max_entries` entries are kept (least recently
used go first).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MAX_ENTRIES = 32


def default_dir() -> Path:
    """$XDG_CACHE_HOME/yinji/pir-hints (~/.cache/yinji/pir-hints)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yinji" / "pir-hints"


class HintCache:
    def __init__(self, folder: str | os.PathLike[str], max_entries: int = DEFAULT_MAX_ENTRIES
                 ) -> None:
        self.folder = Path(folder)
        self.max_entries = max_entries

    def _paths(self, key: str) -> tuple[Path, Path]:
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.folder / f"{name}.json", self.folder / f"{name}.npy"

    def load(self, key: str) -> tuple[dict[str, Any], np.ndarray] | None:
        """(meta, hint) saved under `key`, or None. meta: key, version, lwe, layout."""
        meta_path, hint_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            hint = np.load(hint_path, allow_pickle=False)
            if meta.get("key") != key or hint.dtype != np.uint32 or hint.ndim != 2 \
                    or list(hint.shape) != meta.get("shape"):
                raise ValueError("mismatched entry")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            self.drop(key)
            return None
        os.utime(meta_path)  # recently used
        return meta, hint

    def save(self, key: str, version: str, lwe: dict, layout: dict, hint: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        meta_path, hint_path = self._paths(key)
        meta = {"key": key, "version": version, "lwe": lwe, "layout": layout,
                "shape": list(hint.shape)}
        self._write(hint_path, lambda fh: np.save(fh, np.ascontiguousarray(hint, np.uint32)))
        self._write(meta_path, lambda fh: fh.write(json.dumps(meta).encode()))
        self._trim()

    def drop(self, key: str) -> None:
        for p in self._paths(key):
            p.unlink(missing_ok=True)

    def _write(self, path: Path, write: Any) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _trim(self) -> None:
        metas = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for p in metas[:max(0, len(metas) - self.max_entries)]:
            p.unlink(missing_ok=True)
            p.with_suffix(".npy").unlink(missing_ok=True)


__all__ = ["DEFAULT_MAX_ENTRIES", "HintCache", "default_dir"]
