"""Node configuration: one YAML file `node.yaml` in the node's home folder.

Only names, addresses, fingerprints, public keys and policy rules live here; private keys are
separate 0600 files next to it and API tokens are stored hashed in the metadata store.

What the catalog may read is fixed here, by whoever edits this file on the node's machine, and
not through the API: `data_roots` (folders file datasets may come from, besides
`<home>/data`) and `sql_sources` (name -> SQLAlchemy URL; a sql dataset names one).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from yinji import ids
from yinji.crypto.profile import PROFILES

CONFIG_FILE = "node.yaml"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file and the field."""


_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0}


def parse_lifetime(text: str | None) -> float | None:
    """'90d', '12h', '30m' -> seconds; 'never' (or None) -> None."""
    if text is None or str(text).strip().lower() == "never":
        return None
    t = str(text).strip().lower()
    if len(t) < 2 or t[-1] not in _UNITS or not t[:-1].isdigit() or int(t[:-1]) == 0:
        raise ValueError(f"a lifetime is N followed by d, h or m (e.g. 90d), or never; "
                         f"got {text!r}")
    return int(t[:-1]) * _UNITS[t[-1]]


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost (a name that resolves nowhere else)."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"address must be HOST:PORT, got {text!r}")
    return host, int(port)


@dataclass
class PeerConfig:
    """A peer node: where to reach it and how to recognise it."""

    name: str
    dataplane: str                  # HOST:PORT of its mutual-TLS data plane
    fingerprint: str                # SHA-256 of its TLS certificate (hex)
    signing_key: str                # its public signing key (base64; Ed25519 or SM2 by profile)
    cert: str                       # path of its certificate, relative to the home folder
    api: str = ""                   # its REST API base URL (informational)
    pir: dict[str, str] = field(default_factory=dict)  # its PIR services: id -> HOST:PORT
    # during its certificate rotation (yinji.node.rotation): the old certificate, still
    # accepted until the peer says it switched
    previous_fingerprint: str = ""
    previous_cert: str = ""

    @property
    def pins(self) -> tuple[str, ...]:
        return (self.fingerprint, *([self.previous_fingerprint]
                                    if self.previous_fingerprint else []))

    @property
    def address(self) -> tuple[str, int]:
        return parse_address(self.dataplane)


@dataclass
class PirServiceConfig:
    """A PIR list this node serves to its peers (yinji.node.pir_services): the key column
    and label columns of a catalog dataset, on its own mutual-TLS port."""

    id: str
    dataset: str
    key_column: str
    label_columns: list[str]
    port: int                       # listens on dataplane_host:port; 0 = any free port
    rate_limit: str = "1000/min"    # OPRF evaluations (keys) per peer: N/s, N/min, N/h, N/day
    label_size: int | None = None   # default: longest label rounded up to 16 bytes
    day_budget: int | None = None   # keys per peer per day; then one request may be a whole
    #                                 day's batch (yinji.pir.oprf.RateLimit)
    key_kind: str = "auto"          # key normalisation (yinji.ids kind, or "exact"); public


@dataclass
class NodeConfig:
    name: str
    crypto_profile: str = "international"  # or "sm" (SM2/SM3/SM4); fixed at `node init`
    api_host: str = "127.0.0.1"
    api_port: int = 8700
    api_plain_http: bool = False         # REST API without TLS: loopback development only
    cert_warn_days: int = 30             # warn (GET /node, CLI, /metrics) this many days
                                         # before the own or a peer's certificate expires
    log_level: str = "INFO"              # the JSON-lines log <home>/logs/node.log
    log_max_mb: int = 10                 # rotated at this size ...
    log_backups: int = 5                 # ... keeping this many older files
    dataplane_host: str = "127.0.0.1"
    dataplane_port: int = 8800
    database_url: str | None = None     # default: SQLite file node.db in the home folder
    job_timeout: float = 120.0           # seconds a job may wait for peers or messages
    proposal_ttl: float = 86_400.0       # seconds a proposal may wait for every approval
    anchor_period: float = 60.0          # seconds between audit-head anchors to peers (0: only
                                         # on stop and on demand; yinji.node.anchors)
    peers: dict[str, PeerConfig] = field(default_factory=dict)
    auto_approve: list[dict[str, Any]] = field(default_factory=list)
    pir: dict[str, PirServiceConfig] = field(default_factory=dict)
    data_roots: list[str] = field(default_factory=list)      # besides <home>/data; relative
    #                                                          paths are relative to home
    sql_sources: dict[str, str] = field(default_factory=dict)  # name -> SQLAlchemy URL
    token_lifetime: str = "90d"          # default API token lifetime: N d|h|m, or "never"
    dataset_cache_mb: int = 1024         # typed columns of unchanged file datasets kept in
                                         # memory between jobs (0: read every time)
    ray_address: str | None = None       # bucketed PSI lanes, PIR builds (OPRF, sealing,
    #                                      hint blocks): None = threads of this node,
    #                                      "local" = a Ray instance on this machine, else a
    #                                      Ray cluster address ("ray://host:10001", "auto")
    ray_cpus_per_lane: float = 1.0       # CPUs each lane (or PIR build task) reserves on Ray
    lane_host: str | None = None         # where lanes listen for the peer's (default:
    #                                      dataplane_host); must be reachable from the peer
    home: Path = field(default=Path("."), repr=False, compare=False)

    # -- files --------------------------------------------------------------------------
    @property
    def cert_file(self) -> Path:
        return self.home / "tls" / "node.crt"

    @property
    def key_file(self) -> Path:
        return self.home / "tls" / "node.key"

    @property
    def trust_file(self) -> Path:
        return self.home / "tls" / "trust.pem"

    @property
    def signing_key_file(self) -> Path:
        return self.home / "signing.key"

    @property
    def data_dir(self) -> Path:
        """The default data root, `<home>/data`."""
        return self.home / "data"

    @property
    def data_root_paths(self) -> list[Path]:
        """Folders file datasets may be read from: `<home>/data`, then `data_roots`."""
        return [self.data_dir, *(self.home / r for r in self.data_roots)]

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'node.db').resolve()}"

    @property
    def api_url(self) -> str:
        scheme = "http" if self.api_plain_http else "https"
        return f"{scheme}://{_url_host(self.api_host)}:{self.api_port}"

    def check_plain_http(self, plain: bool | None = None) -> bool:
        """Whether the API is served without TLS; refuses that unless it listens on a
        loopback address only (bearer tokens must not cross a network in clear)."""
        plain = self.api_plain_http if plain is None else plain
        if plain and not is_loopback(self.api_host):
            raise ConfigError(f"{self.home / CONFIG_FILE}: plain HTTP is allowed only on a "
                              f"loopback address, but api_host is {self.api_host!r}; serve "
                              "HTTPS (the default) or set api_host: 127.0.0.1")
        return plain

    @property
    def dataplane(self) -> str:
        return f"{self.dataplane_host}:{self.dataplane_port}"

    # -- load / save ----------------------------------------------------------------------
    @classmethod
    def load(cls, home: str | os.PathLike[str]) -> NodeConfig:
        home = Path(home)
        path = home / CONFIG_FILE
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"{path}: no node here (run `yinji node init`)") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict) or not raw.get("name"):
            raise ConfigError(f"{path}: needs at least `name`")
        peers = {}
        for name, p in (raw.pop("peers", None) or {}).items():
            try:
                peers[name] = PeerConfig(name=name, **p)
            except TypeError as exc:
                raise ConfigError(f"{path}: peer {name!r}: {exc}") from None
        pir = {}
        for sid, p in (raw.pop("pir", None) or {}).items():
            try:
                pir[sid] = PirServiceConfig(id=sid, **p)
            except TypeError as exc:
                raise ConfigError(f"{path}: pir service {sid!r}: {exc}") from None
            if not pir[sid].label_columns or pir[sid].key_column in pir[sid].label_columns:
                raise ConfigError(f"{path}: pir service {sid!r}: give label_columns other "
                                  "than the key column")
            if pir[sid].key_kind not in ("exact", *ids.KINDS):
                raise ConfigError(f"{path}: pir service {sid!r}: key_kind must be one of "
                                  f"exact, {', '.join(ids.KINDS)}; got {pir[sid].key_kind!r}")
        known = {f for f in cls.__dataclass_fields__ if f not in ("peers", "pir", "home")}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
        ttl = raw.get("proposal_ttl", 1.0)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ConfigError(f"{path}: proposal_ttl must be a positive number of seconds, "
                              f"got {ttl!r}")
        if raw.get("crypto_profile", "international") not in PROFILES:
            raise ConfigError(f"{path}: crypto_profile must be one of "
                              f"{', '.join(map(repr, PROFILES))}, got {raw['crypto_profile']!r}")
        cfg = cls(peers=peers, pir=pir, home=home, **raw)
        cfg._check_sources(path)
        return cfg

    def _check_sources(self, path: Path) -> None:
        roots, sources = self.data_roots, self.sql_sources
        if not isinstance(roots, list) or not all(isinstance(r, str) and r for r in roots):
            raise ConfigError(f"{path}: data_roots must be a list of folder paths")
        if not isinstance(sources, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and v for k, v in sources.items()):
            raise ConfigError(f"{path}: sql_sources must map names to SQLAlchemy URLs")
        cache = self.dataset_cache_mb
        if isinstance(cache, bool) or not isinstance(cache, int) or cache < 0:
            raise ConfigError(f"{path}: dataset_cache_mb must be a whole number of MB >= 0")
        warn = self.cert_warn_days
        if isinstance(warn, bool) or not isinstance(warn, int) or warn < 0:
            raise ConfigError(f"{path}: cert_warn_days must be a whole number of days >= 0")
        for name in ("log_max_mb", "log_backups"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{path}: {name} must be a whole number >= 1")
        if str(self.log_level).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"{path}: log_level must be DEBUG, INFO, WARNING or ERROR")
        if not isinstance(self.api_plain_http, bool):
            raise ConfigError(f"{path}: api_plain_http must be true or false")
        if self.ray_address is not None and (not isinstance(self.ray_address, str)
                                             or not self.ray_address.strip()):
            raise ConfigError(f"{path}: ray_address must be 'local' or a Ray cluster address")
        cpus = self.ray_cpus_per_lane
        if isinstance(cpus, bool) or not isinstance(cpus, int | float) or not cpus > 0:
            raise ConfigError(f"{path}: ray_cpus_per_lane must be a positive number")
        try:
            parse_lifetime(self.token_lifetime)
        except ValueError as exc:
            raise ConfigError(f"{path}: token_lifetime: {exc}") from None

    def save(self) -> None:
        data = asdict(self)
        data.pop("home")
        data["peers"] = {n: {k: v for k, v in asdict(p).items() if k != "name"}
                         for n, p in sorted(self.peers.items())}
        data["pir"] = {i: {k: v for k, v in asdict(p).items() if k != "id"}
                       for i, p in sorted(self.pir.items())}
        path = self.home / CONFIG_FILE
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                       encoding="utf-8")
        os.replace(tmp, path)
