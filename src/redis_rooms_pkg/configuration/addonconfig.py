"""Redis options of the addon, validated when the workflow's addon entry loads."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from redis_rooms_pkg.configuration.baseconfig import BaseAddonConfig

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6379
DEFAULT_SOCKET_TIMEOUT = 5  # s
DEFAULT_SOCKET_CONNECT_TIMEOUT = 5  # s
DEFAULT_RETRY_ATTEMPTS = 3  # retries after the first try, on connection errors only
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024  # bytes (1 MiB), largest value a write action stores
DEFAULT_MAX_NAME_BYTES = 1024  # bytes, longest key, field, lock, channel or session name
DEFAULT_MAX_CALL_BYTES = 4 * 1024 * 1024  # bytes (4 MiB), names + values one batch write sends
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # bytes (4 MiB), names + values one read returns
DEFAULT_REPLICA_ACK_TIMEOUT_MS = 1000  # ms a durable write waits for its replicas
DEFAULT_MAX_CONNECTIONS = 50  # connections in the pool, at most
DEFAULT_HEALTH_CHECK_INTERVAL = 30  # s, idle time after which a pooled connection is PINGed
CLIENT_NAME_PREFIX = "rooms:"  # default client_name is this + the addon id

# Secret keys this addon understands (the keys of the entry's "secrets" map).
KNOWN_SECRETS = (
    "redis_password",
    "redis_username",
    "redis_ca_cert",
    "redis_client_key",
    "redis_sentinel_password",
    "redis_url",  # a whole URL (as managed services hand out), wins over the config's url
)

REDACTED = "**********"  # what SecretStr shows
URL_SCHEMES = ("redis", "rediss", "unix")
TLS_FILE_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")
TLS_OPTIONS = (*TLS_FILE_OPTIONS, "ssl_ca_data", "ssl_cert_reqs", "ssl_check_hostname")

Mode = Literal["standalone", "embedded", "cluster", "sentinel"]
CertReqs = Literal["required", "optional", "none"]

# Options that only one mode reads: given with another mode they would be silently ignored.
MODE_OPTIONS = {
    "cluster": ("startup_nodes", "read_from_replicas"),
    "sentinel": ("sentinels", "sentinel_master", "sentinel_username"),
}


URL_ENCODE_HINT = (
    "if the user name or password contains @ / : ? or #, percent-encode them (%40 %2F %3A %3F %23)"
)


def check_url(text: str, name: str = "url") -> str:
    """``text`` as a URL the client can use (its scheme in lower case), else ValueError saying
    what to fix; the message never repeats any part of the URL (it may hold a password)."""
    scheme, sep, rest = text.strip().partition("://")
    if not sep or scheme.lower() not in URL_SCHEMES:
        raise ValueError(f"{name} must start with redis://, rediss:// or unix://")
    text = f"{scheme.lower()}://{rest}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(
            f"{name} is not a valid URL (check the port number; {URL_ENCODE_HINT})"
        ) from None
    if "#" in text or parts.netloc.count("@") > 1:
        raise ValueError(f"{name} is not a valid URL: {URL_ENCODE_HINT}")
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"a unix:// {name} needs the socket path, e.g. unix:///run/redis.sock")
    elif not parts.hostname:
        raise ValueError(
            f"{name} needs a host, e.g. rediss://cache.example.com:6380/0 ({URL_ENCODE_HINT})"
        )
    elif not (parts.path.strip("/") or "0").isdigit():
        raise ValueError(
            f"the path of {name} must be a database number such as /0 ({URL_ENCODE_HINT})"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    extra = sorted(set(query) - {"db"})
    if extra:
        raise ValueError(
            f"{name} query option(s) {', '.join(extra)} are not accepted: "
            "set them as config options instead"
        )
    if "db" in query and not (len(query["db"]) == 1 and query["db"][0].isdigit()):
        raise ValueError(f"db in the {name} query must be one database number, e.g. ?db=0")
    return text


def parse_address(text: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"[ipv6]:port"``) as ``(host, port)``; ValueError naming the fault."""
    host, sep, port = text.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f'{text!r} is not a "host:port" address with a port from 1 to 65535')
    return host, int(port)


def _with_hint(names: list[str], known: set[str]) -> list[str]:
    """Each name quoted, with the known name it is closest to: "'hots' (did you mean 'host'?)"."""
    hinted = []
    for name in names:
        close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.7)
        hinted.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return hinted


def _addresses(values: list[str]) -> list[str]:
    for value in values:
        parse_address(value)
    return [value.strip() for value in values]


class CustomAddonConfig(BaseAddonConfig):
    """Addon entry with the Redis connection options.

    The options may sit inside ``"config"`` (as the published docs show) or be top-level fields
    (as the platform's template does); both are merged here, so ``CustomAddonConfig(**entry)``
    alone yields the complete configuration.
    """

    mode: Mode = Field(
        default="standalone",
        description='"standalone" (a Redis server), "cluster" (Redis Cluster), "sentinel" '
        '(a primary found through Redis Sentinel) or "embedded" (in-process fakeredis)',
    )
    host: str = Field(default=DEFAULT_HOST, min_length=1, description="Redis server host")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="Redis server port")
    db: int = Field(default=0, ge=0, description="Redis database number")
    username: str | None = Field(default=None, description="Redis ACL username (optional)")
    ssl: bool = Field(default=False, description="Use a TLS connection")
    decode_responses: bool = Field(default=True, description="Decode responses to strings")
    socket_timeout: PositiveFloat = Field(
        default=DEFAULT_SOCKET_TIMEOUT, description="Socket timeout in seconds"
    )
    socket_connect_timeout: PositiveFloat = Field(
        default=DEFAULT_SOCKET_CONNECT_TIMEOUT, description="Socket connect timeout in seconds"
    )
    key_prefix: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        default="",
        description='Namespace put before every key the actions touch (e.g. "wf42:")',
    )
    retry_attempts: int = Field(
        default=DEFAULT_RETRY_ATTEMPTS,
        ge=0,
        le=10,
        description="Retries after a connection error, with exponential backoff and jitter",
    )
    read_only: bool = Field(
        default=False,
        description="Refuse every action that writes or deletes (403); for agents that only read",
    )
    max_value_bytes: int = Field(
        default=DEFAULT_MAX_VALUE_BYTES,
        ge=1,
        description="Largest value in bytes a write action stores; larger values are refused (413)",
    )
    url: SecretStr | None = Field(
        default=None,
        description="redis://, rediss:// (TLS) or unix:// (socket path) URL; wins over host, "
        "port, db, username and ssl; never shown in logs or messages",
    )
    ssl_ca_certs: str | None = Field(
        default=None, description="Path of the CA bundle (PEM) that verifies the server"
    )
    ssl_ca_data: str | None = Field(
        default=None,
        description="The CA certificate(s) as PEM text (or the secret redis_ca_cert)",
    )
    ssl_certfile: str | None = Field(
        default=None, description="Path of the client certificate (PEM), for mutual TLS"
    )
    ssl_keyfile: str | None = Field(
        default=None,
        description="Path of the client certificate's key (PEM), or the secret redis_client_key",
    )
    ssl_cert_reqs: CertReqs = Field(
        default="required",
        description='Server certificate check: "required", "optional" or "none"',
    )
    ssl_check_hostname: bool | None = Field(
        default=None,
        description="Check the server certificate's host name (default: on unless "
        'ssl_cert_reqs is "none")',
    )
    client_name: str | None = Field(
        default=None,
        description='Name shown in CLIENT LIST (default "rooms:<addon id>"; "" sends none)',
    )
    max_connections: PositiveInt = Field(
        default=DEFAULT_MAX_CONNECTIONS,
        description="Pool size; when all are busy an action waits for a free connection "
        "(up to socket_connect_timeout + socket_timeout)",
    )
    health_check_interval: NonNegativeInt = Field(
        default=DEFAULT_HEALTH_CHECK_INTERVAL,
        description="Seconds a pooled connection may idle before it is checked with PING "
        "(0: never)",
    )
    startup_nodes: list[str] = Field(
        default=[],
        description='Cluster mode: "host:port" of nodes to discover the cluster from '
        "(default: host and port)",
    )
    read_from_replicas: bool = Field(
        default=False,
        description="Cluster mode: spread reads over primaries and replicas (reads may lag writes)",
    )
    sentinels: list[str] = Field(
        default=[],
        description='Sentinel mode: "host:port" of the sentinels to ask for the primary',
    )
    sentinel_master: str | None = Field(
        default=None,
        min_length=1,
        description="Sentinel mode: the service name the sentinels monitor (required)",
    )
    sentinel_username: str | None = Field(
        default=None,
        description="Sentinel mode: ACL username on the sentinels (their password is the secret "
        "redis_sentinel_password)",
    )
    max_name_bytes: int = Field(
        default=DEFAULT_MAX_NAME_BYTES,
        ge=1,
        description="Longest key, hash field, lock, channel or session name in UTF-8 bytes "
        "(key_prefix not counted); longer names are refused (413)",
    )
    max_call_bytes: int = Field(
        default=DEFAULT_MAX_CALL_BYTES,
        ge=1,
        description="Most bytes of names and values one batch write (set_many, list_push, "
        "hash_set, history_append) sends; larger calls are refused (413)",
    )
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        ge=1,
        description="Most bytes of names and values one read returns; larger replies are "
        "refused (413) with the parameter to page by",
    )
    min_replicas_acked: NonNegativeInt = Field(
        default=0,
        description="Durable writes (standalone and sentinel modes): after each write action, "
        "wait (WAIT) until this many replicas have it; fewer within replica_ack_timeout_ms "
        "answers 202 (applied on the primary, replication not confirmed). 0: do not wait",
    )
    replica_ack_timeout_ms: PositiveInt = Field(
        default=DEFAULT_REPLICA_ACK_TIMEOUT_MS,
        description="With min_replicas_acked: how long a write waits for the replicas (ms); "
        "below socket_timeout",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_config_block(cls, data: Any) -> Any:
        """Lift the options of ``"config"`` to fields; refuse unknown or contradicting ones."""
        if not isinstance(data, dict):
            return data
        block = data.get("config")
        if block is None:
            return data
        if not isinstance(block, dict):
            raise ValueError('"config" must be an object of Redis options')
        options = cls.option_names()
        unknown = sorted(set(block) - options, key=str)
        if unknown:
            raise ValueError(
                f"unknown Redis option(s) in config: {', '.join(_with_hint(unknown, options))}; "
                f"known options are: {', '.join(sorted(options))}"
            )
        merged = dict(data)
        for name, value in block.items():
            if name in data and data[name] != value:
                raise ValueError(
                    f"option {name!r} is given both in config and as a top-level field with "
                    "different values; keep one of them"
                )
            merged[name] = value
        if block.get("url") is not None:  # the kept copy of "config" must not show the url
            merged["config"] = {**block, "url": REDACTED}
        return merged

    @classmethod
    def option_names(cls) -> set[str]:
        """The Redis options (the fields beyond the entry's own)."""
        return set(cls.model_fields) - set(BaseAddonConfig.model_fields)

    def stray_fields(self) -> list[str]:
        """Top-level fields the addon does not read (the engine's own, such as ``version`` or
        ``tools``) that look like a misspelt option: for a warning, with a "did you mean"."""
        options = self.option_names()
        return [
            hint
            for hint in _with_hint(sorted(self.model_extra or {}, key=str), options)
            if "did you mean" in hint
        ]

    @field_validator("startup_nodes", "sentinels")
    @classmethod
    def _host_port_list(cls, values: list[str]) -> list[str]:
        return _addresses(values)

    @model_validator(mode="after")
    def _mode_options(self) -> CustomAddonConfig:
        for mode, names in MODE_OPTIONS.items():
            given = [n for n in names if getattr(self, n) != type(self).model_fields[n].default]
            if given and self.mode != mode:
                raise ValueError(
                    f"{', '.join(given)} only apply to mode {mode!r} (mode is {self.mode!r}): "
                    f'set "mode": "{mode}" or remove them'
                )
        scheme = self.url_scheme()
        single = [
            n for n in ("host", "port") if getattr(self, n) != type(self).model_fields[n].default
        ]
        if self.mode == "sentinel" and (scheme or single):
            given = "url" if scheme else " and ".join(single)
            raise ValueError(
                f"{given} names one server, but in sentinel mode the sentinels name the primary: "
                f"remove {given} and give sentinels and sentinel_master"
            )
        if self.mode == "cluster" and scheme == "unix":
            raise ValueError(
                "a Redis Cluster is reached over TCP: use a redis:// or rediss:// url, or "
                "startup_nodes"
            )
        url_db = urlsplit(self.url.get_secret_value()).path.strip("/") if self.url else ""
        if self.mode == "cluster" and (self.db != 0 or url_db not in ("", "0")):
            raise ValueError("Redis Cluster only has database 0: remove db (or set it to 0)")
        if self.min_replicas_acked and self.mode in ("cluster", "embedded"):
            raise ValueError(
                f"min_replicas_acked applies to modes standalone and sentinel (mode is "
                f"{self.mode!r}): remove it"
            )
        if self.min_replicas_acked and self.replica_ack_timeout_ms >= self.socket_timeout * 1000:
            raise ValueError(
                "replica_ack_timeout_ms must be below socket_timeout (in ms): a write waits "
                "that long for its replicas within one command"
            )
        if self.mode == "sentinel" and not (self.sentinels and self.sentinel_master):
            raise ValueError(
                'mode "sentinel" needs sentinels (a list of "host:port") and sentinel_master '
                "(the service name the sentinels monitor)"
            )
        return self

    def cluster_nodes(self) -> list[tuple[str, int]]:
        """Where cluster mode starts discovering: startup_nodes, else the url's or host and
        port."""
        if self.startup_nodes:
            return [parse_address(node) for node in self.startup_nodes]
        if self.url is not None:
            parts = urlsplit(self.url.get_secret_value())
            return [(parts.hostname or DEFAULT_HOST, parts.port or DEFAULT_PORT)]
        return [(self.host, self.port)]

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [parse_address(sentinel) for sentinel in self.sentinels]

    @field_validator("secrets")
    @classmethod
    def _known_secrets(cls, secrets: dict[str, SecretStr]) -> dict[str, SecretStr]:
        unknown = sorted(set(secrets) - set(KNOWN_SECRETS))
        if unknown:
            raise ValueError(
                f"unknown secret key(s): {', '.join(_with_hint(unknown, set(KNOWN_SECRETS)))}; "
                f"known secret keys are: {', '.join(KNOWN_SECRETS)}"
            )
        empty = sorted(key for key, text in secrets.items() if not text.get_secret_value().strip())
        if empty:
            raise ValueError(
                f"secret(s) {', '.join(empty)} must name an environment variable (or hold the "
                "value itself)"
            )
        return secrets

    @field_validator("key_prefix")
    @classmethod
    def _prefix_exact(cls, prefix: str) -> str:
        if prefix != prefix.strip():
            raise ValueError(
                "key_prefix begins or ends with whitespace; remove it (a stray space would put "
                "the keys in another namespace)"
            )
        return prefix

    @field_validator("client_name")
    @classmethod
    def _client_name_form(cls, name: str | None) -> str | None:
        if name and not all("!" <= c <= "~" for c in name):
            raise ValueError("client_name may not contain spaces or non-ASCII characters")
        return name

    @field_validator("url")
    @classmethod
    def _url_form(cls, url: SecretStr | None) -> SecretStr | None:
        """Scheme and shape only; the message never repeats the URL (it may hold a password)."""
        return None if url is None else SecretStr(check_url(url.get_secret_value()))

    @model_validator(mode="after")
    def _tls_consistent(self) -> CustomAddonConfig:
        """TLS options only with TLS on, and the files they name must exist."""
        given = [name for name in TLS_OPTIONS if name in self.model_fields_set]
        if given and not self.uses_tls():
            raise ValueError(
                f"{', '.join(given)} given but TLS is off: set ssl to true (or use a rediss:// url)"
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError("ssl_keyfile needs ssl_certfile (the client certificate)")
        if self.ssl_check_hostname and self.ssl_cert_reqs == "none":
            raise ValueError('ssl_check_hostname cannot be true with ssl_cert_reqs "none"')
        for name in TLS_FILE_OPTIONS:
            path = getattr(self, name)
            if path and not Path(path).expanduser().is_file():
                raise ValueError(f"{name}: no file at {path}")
        return self

    def with_url(self, url: SecretStr) -> CustomAddonConfig:
        """This configuration with ``url`` (the redis_url secret) in place of its own url,
        validated as the entry is: ValueError / ValidationError naming what to fix."""
        data = self.model_dump(exclude={"config"}, exclude_unset=True)
        data["url"] = SecretStr(check_url(url.get_secret_value(), "the redis_url secret"))
        return type(self).model_validate(data)

    def url_scheme(self) -> str | None:
        if self.url is None:
            return None
        return urlsplit(self.url.get_secret_value()).scheme

    def uses_tls(self) -> bool:
        """TLS is on with a rediss:// url, or with ssl true when no url is given."""
        scheme = self.url_scheme()
        return scheme == "rediss" if scheme else self.ssl

    def check_hostname(self) -> bool:
        if self.ssl_check_hostname is not None:
            return self.ssl_check_hostname
        return self.ssl_cert_reqs != "none"

    def default_client_name(self) -> str:
        return CLIENT_NAME_PREFIX + "".join(c if "!" <= c <= "~" else "-" for c in self.id)

    def describe_target(self) -> str:
        """Where this addon connects, for messages: never a credential, never the URL."""
        if self.mode == "embedded":
            return "the embedded in-process Redis"
        if self.mode == "cluster":
            first, *rest = (f"{host}:{port}" for host, port in self.cluster_nodes())
            more = f" (+{len(rest)} more)" if rest else ""
            return f"Redis Cluster at {first}{more}"
        if self.mode == "sentinel":
            return (
                f"Redis primary {self.sentinel_master!r} via sentinels {', '.join(self.sentinels)}"
                f" (db {self.db})"
            )
        if self.url is not None:
            parts = urlsplit(self.url.get_secret_value())
            if parts.scheme == "unix":
                return f"Redis at unix socket {parts.path}"
            db = parts.path.strip("/") or parse_qs(parts.query).get("db", ["0"])[0]
            if not db.isdigit():  # checked at load: never echo text that was not parsed
                db = "?"
            return f"Redis at {parts.hostname}:{parts.port or 6379} (db {db})"
        return f"Redis at {self.host}:{self.port} (db {self.db})"
