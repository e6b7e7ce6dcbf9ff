"""`redis-rooms check`: connect as the addon would, one stage at a time, and name what fails."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import redis
from redis.connection import SSLConnection, UnixDomainSocketConnection

from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services import errors
from redis_rooms_pkg.services.client import check_deployment

LATENCY_PINGS = 5  # round trips measured by the latency stage
SLOW_ROUND_TRIP = 0.050  # s, average PING above which the latency stage warns
CERT_EXPIRY_WARNING = 30  # days left on the server certificate below which the TLS stage warns
NETWORK_MODES = {"standalone"}  # modes whose client connects to a server (host:port or socket)

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class StageResult:
    """One line of the report: a stage, how it went, what was seen and, if needed, the fix."""

    stage: str
    status: Status
    detail: str
    fix: str = ""


class StageError(Exception):
    """Raised by a stage that cannot pass; later stages do not run."""

    def __init__(self, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


Transport = Literal["tcp", "tls", "unix"]


@dataclass
class Probe:
    """What the stages share: the addon under test, its config and where it connects.

    ``connection`` holds the client's own connection options (redis-py's names, secrets
    included): stages read them to connect exactly as the client does, and never print them.
    """

    addon: RedisRoomsAddon
    config: CustomAddonConfig
    connection: dict[str, Any] = field(default_factory=dict)
    transport: Transport = "tcp"
    addresses: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, addon: RedisRoomsAddon) -> Probe:
        """The probe of a configured addon, from the client it builds (no socket opened)."""
        if addon.config is None:
            raise ValueError("the addon has no configuration")
        if addon.config.mode not in NETWORK_MODES:  # a cluster client connects when built:
            return cls(addon, addon.config)  # the stages do that, and report what fails
        pool = getattr(addon.client(), "connection_pool", None)
        connection = dict(getattr(pool, "connection_kwargs", None) or {})
        kind = getattr(pool, "connection_class", None)
        transport: Transport = "tcp"
        if isinstance(kind, type) and issubclass(kind, UnixDomainSocketConnection):
            transport = "unix"
        elif isinstance(kind, type) and issubclass(kind, SSLConnection):
            transport = "tls"
        return cls(addon, addon.config, connection, transport)

    @property
    def host(self) -> str:
        return str(self.connection.get("host", self.config.host))

    @property
    def port(self) -> int:
        return int(self.connection.get("port", self.config.port))

    @property
    def path(self) -> str:
        return str(self.connection.get("path", ""))

    @property
    def where(self) -> str:
        return (
            f"unix socket {self.path}" if self.transport == "unix" else f"{self.host}:{self.port}"
        )

    @property
    def client(self) -> redis.Redis:
        return self.addon.client()


Outcome = tuple[Status, str, str] | str  # a detail alone means "ok"
Stage = tuple[str, Callable[[Probe], Outcome]]


# --- network stages ----------------------------------------------------------------------------


def dns(probe: Probe) -> Outcome:
    if probe.transport == "unix":
        return ("skip", f"{probe.where}: no name to look up", "")
    try:
        ipaddress.ip_address(probe.host)
    except ValueError:
        pass
    else:
        probe.addresses = [probe.host]
        return f"{probe.host} is an IP address (no lookup needed)"
    try:
        infos = socket.getaddrinfo(probe.host, probe.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise StageError(
            f"cannot resolve {probe.host!r}: {exc.strerror}",
            "check host (a typo? a name only your VPN or private DNS knows?)",
        ) from None
    probe.addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return f"{probe.host} resolves to {', '.join(probe.addresses)}"


def _connect(probe: Probe) -> socket.socket:
    timeout = probe.config.socket_connect_timeout
    if probe.transport != "unix":
        return socket.create_connection((probe.host, probe.port), timeout=timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(probe.path)
    except OSError:
        sock.close()
        raise
    return sock


def connect(probe: Probe) -> Outcome:
    started = time.perf_counter()
    try:
        with _connect(probe) as sock:
            peer = sock.getpeername()
    except FileNotFoundError:
        raise StageError(
            f"no {probe.where}",
            "check the url's path, and that the server runs with unixsocket set to it",
        ) from None
    except PermissionError:
        raise StageError(
            f"permission denied on {probe.where}",
            "run as a user the socket's permissions (unixsocketperm) let in",
        ) from None
    except ConnectionRefusedError:
        raise StageError(
            f"connection to {probe.where} refused: nothing listens there",
            "start the Redis server, or fix host and port",
        ) from None
    except TimeoutError:
        raise StageError(
            f"no answer from {probe.where} within "
            f"{probe.config.socket_connect_timeout:g}s (socket_connect_timeout)",
            "check host and port; a firewall may drop the packets; raise socket_connect_timeout "
            "on a slow network",
        ) from None
    except OSError as exc:
        raise StageError(
            f"cannot connect to {probe.where}: {exc.strerror or type(exc).__name__}",
            "check host, port and the network route to the server",
        ) from None
    elapsed = (time.perf_counter() - started) * 1000
    where = probe.where if probe.transport == "unix" else f"{peer[0]}:{peer[1]}"
    return f"connected to {where} in {elapsed:.1f} ms"


_CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def tls_context(connection: dict[str, Any]) -> ssl.SSLContext:
    """The TLS settings the addon's client uses, read from its connection options (redis-py's)."""
    context = ssl.create_default_context()
    reqs = connection.get("ssl_cert_reqs", "required")
    context.check_hostname = bool(connection.get("ssl_check_hostname", True))
    context.verify_mode = _CERT_REQS.get(reqs, reqs) if isinstance(reqs, str) else reqs
    if connection.get("ssl_certfile") or connection.get("ssl_keyfile"):
        context.load_cert_chain(
            certfile=connection.get("ssl_certfile"),
            keyfile=connection.get("ssl_keyfile"),
            password=connection.get("ssl_password"),
        )
    locations = {
        "cafile": connection.get("ssl_ca_certs"),
        "capath": connection.get("ssl_ca_path"),
        "cadata": connection.get("ssl_ca_data"),
    }
    if any(value is not None for value in locations.values()):
        context.load_verify_locations(**locations)
    if connection.get("ssl_min_version") is not None:
        context.minimum_version = connection["ssl_min_version"]
    if connection.get("ssl_ciphers"):
        context.set_ciphers(connection["ssl_ciphers"])
    return context


_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


def _subject(cert: dict[str, Any]) -> str:
    parts = [
        f"{_SHORT_NAMES.get(name, name)}={value}"
        for rdn in cert.get("subject", ())
        for name, value in rdn
    ]
    return ", ".join(parts) or "(empty subject)"


def tls(probe: Probe) -> Outcome:
    if probe.transport == "unix":
        return ("skip", f"{probe.where}: no TLS", "")
    if probe.transport == "tcp":
        return ("skip", "plain TCP, no TLS (ssl is false)", "")
    context = tls_context(probe.connection)
    try:
        with _connect(probe) as raw, context.wrap_socket(raw, server_hostname=probe.host) as sock:
            protocol, cipher, cert = sock.version(), sock.cipher(), sock.getpeercert()
    except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
        # In the addon's own words: its client meets these failures wrapped the same way.
        if isinstance(exc, TimeoutError):
            cause: BaseException = errors.TLSHandshakeTimeoutError("no answer")
        elif isinstance(exc, ssl.SSLError):
            cause = exc
        else:
            cause = errors.ClosedBeforeReplyError(str(exc), tls=True)
        failure = redis.ConnectionError("TLS handshake failed")
        failure.__cause__ = cause
        raise _fail_from(probe, failure) from None
    detail = f"{protocol}, cipher {cipher[0] if cipher else '?'}"
    if not cert:
        return ("warn", f"{detail}; certificate not verified", "ssl_cert_reqs is none")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), timezone.utc)
    days = (expires - datetime.now(timezone.utc)).days
    detail += f", certificate {_subject(cert)}, expires {expires:%Y-%m-%d} ({days} days)"
    if days < CERT_EXPIRY_WARNING:
        return ("warn", detail, "renew the server certificate soon")
    return detail


# --- session stages ----------------------------------------------------------------------------


def _fail_from(probe: Probe, exc: Exception, fix: str = "") -> StageError:
    """A failed stage whose detail is the addon's own message for ``exc``."""
    _, message = errors.describe(exc, probe.config.describe_target(), probe.config.socket_timeout)
    return StageError(message, fix)


def _password_source(probe: Probe) -> str:
    credentials = probe.addon.credentials
    if credentials.variable("redis_password") is not None:
        return f"password from {credentials.variable('redis_password')}"
    origin = credentials.origin("redis_password")
    if origin is not None:
        return f"password: {origin}"
    if probe.connection.get("password"):
        return "password from the url"
    if probe.addon.credentials.named_unset("redis_password"):
        return "no password (the variable the entry's secrets name is not set)"
    return "no password"


def _user(probe: Probe) -> str:
    """Who the server says we are; a user name given as a secret (or in the url) stays hidden."""
    credentials = probe.addon.credentials
    if credentials.variable("redis_username") is not None:
        return f"the user named in {credentials.variable('redis_username')}"
    if credentials.origin("redis_username") is not None:
        return "the user given"
    if probe.connection.get("username") not in (None, probe.config.username):
        return "the url's user"
    try:
        return repr(probe.client.acl_whoami())
    except redis.RedisError:
        return repr(probe.config.username or "default")


def _ping(probe: Probe) -> None:
    """PING as the addon's client; a cluster client that could not start raises its cause."""
    try:
        probe.client.ping()
        return
    except redis.exceptions.RedisClusterException as exc:
        failure: BaseException = exc
        cause = exc.__cause__
    if isinstance(cause, redis.RedisError):
        raise cause  # outside the handler: no loop back through __context__
    raise _fail_from(probe, failure, "check startup_nodes, and that the cluster serves every slot")


def auth(probe: Probe) -> Outcome:
    if probe.config.mode == "embedded":
        return ("skip", "embedded mode: in-process Redis, no authentication", "")
    try:
        _ping(probe)
    except redis.AuthenticationError as exc:
        where = probe.addon.credentials.variable("redis_password") or (
            "the environment variable the entry's secrets name for redis_password"
        )
        raise _fail_from(
            probe,
            exc,
            f"put the server's password in {where} (environment or .env); now: "
            f"{_password_source(probe)}",
        ) from None
    except redis.TimeoutError as exc:
        raise _fail_from(
            probe, exc, "TCP connects but Redis does not answer: is this port really Redis?"
        ) from None
    except redis.ConnectionError as exc:
        raise _fail_from(probe, exc) from None  # the message says what to change
    except redis.RedisError as exc:
        raise _fail_from(
            probe, exc, "the server refused PING from this user: see its reply"
        ) from None
    return f"authenticated as {_user(probe)} ({_password_source(probe)})"


def server(probe: Probe) -> Outcome:
    if probe.config.mode == "embedded":
        try:
            fake = version("fakeredis")
        except PackageNotFoundError:  # pragma: no cover - embedded mode needs fakeredis
            fake = "?"
        return f"embedded fakeredis {fake}, in this process (data is lost when it exits)"
    try:
        info = probe.client.info("server")
    except redis.RedisError as exc:
        _, message = errors.describe(exc, probe.config.describe_target(), 0)
        return ("warn", f"INFO server unavailable: {message}", "allow INFO to this user to see it")
    return f"Redis {info.get('redis_version', '?')}, {info.get('redis_mode', 'standalone')} server"


def role(probe: Probe) -> Outcome:
    try:
        info = probe.client.info("replication")
    except redis.RedisError as exc:
        _, message = errors.describe(exc, probe.config.describe_target(), 0)
        return ("warn", f"INFO replication unavailable: {message}", "allow INFO to this user")
    if info.get("role") == "master":
        return f"primary with {info.get('connected_slaves', 0)} connected replica(s)"
    return (
        "warn",
        f"replica of {info.get('master_host', '?')}:{info.get('master_port', '?')}: "
        "set_key and delete_key will fail (READONLY)",
        "point the addon at the primary",
    )


def slots(probe: Probe) -> Outcome:
    """Cluster mode: every primary reports all 16384 hash slots served."""
    try:
        check_deployment(probe.client)
    except redis.RedisError as exc:
        raise _fail_from(
            probe, exc, "wait for a replica to take over, or fix the failed node"
        ) from None
    primaries = len(probe.client.get_primaries())
    return f"{primaries} primaries serve all 16384 hash slots"


def primary(probe: Probe) -> Outcome:
    """Sentinel mode: the primary the sentinels name, and that it is one."""
    pool = probe.client.connection_pool
    host, port = pool.get_master_address()
    known = pool.sentinel_manager.discover_slaves(pool.service_name)
    named = f"the sentinels name {host}:{port} as primary of {pool.service_name!r}"
    info = probe.client.info("replication")
    if info.get("role") != "master":
        raise StageError(
            f"{named}, but it answers as a {info.get('role')}", "a failover may be under way"
        )
    return f"{named} ({len(known)} replica(s) known to them)"


def latency(probe: Probe) -> Outcome:
    times = []
    for _ in range(LATENCY_PINGS):
        started = time.perf_counter()
        try:
            probe.client.ping()
        except redis.RedisError as exc:
            raise _fail_from(probe, exc, "the connection is unstable: check the network") from None
        times.append(time.perf_counter() - started)
    average = statistics.mean(times)
    detail = (
        f"PING round trip min {min(times) * 1000:.2f} / avg {average * 1000:.2f} / "
        f"max {max(times) * 1000:.2f} ms over {LATENCY_PINGS}"
    )
    if average > SLOW_ROUND_TRIP:
        return ("warn", detail, "every action pays this: run the engine closer to Redis")
    return detail


# --- the plan ----------------------------------------------------------------------------------

NETWORK_STAGES: list[Stage] = [("dns", dns), ("connect", connect), ("tls", tls)]
SESSION_STAGES: list[Stage] = [("auth", auth), ("server", server)]
# Mode-specific health after the session: where a deployment's own facts are told.
MODE_STAGES: dict[str, list[Stage]] = {
    "standalone": [("role", role)],
    "cluster": [("slots", slots)],
    "sentinel": [("primary", primary)],
}


def stages_for(config: CustomAddonConfig) -> list[Stage]:
    """The stages that apply to the configured deployment, in order."""
    network = NETWORK_STAGES if config.mode in NETWORK_MODES else []
    return [*network, *SESSION_STAGES, *MODE_STAGES.get(config.mode, []), ("latency", latency)]


def run_check(
    addon: RedisRoomsAddon, on_stage: Callable[[StageResult], None] | None = None
) -> list[StageResult]:
    """Run every stage in order; after a failure the rest are reported as not run."""
    probe = Probe.of(addon)
    results: list[StageResult] = []
    failed: str | None = None
    for name, stage in stages_for(probe.config):
        if failed:
            result = StageResult(name, "skip", f"not run: {failed} failed")
        else:
            result = _run_stage(name, stage, probe)
            if result.status == "fail":
                failed = name
        results.append(result)
        if on_stage:
            on_stage(result)
    return results


def _run_stage(name: str, stage: Callable[[Probe], Outcome], probe: Probe) -> StageResult:
    try:
        outcome = stage(probe)
    except StageError as exc:
        return StageResult(name, "fail", exc.detail, exc.fix)
    except Exception as exc:
        _, message = errors.describe(exc, probe.config.describe_target(), 0)
        return StageResult(name, "fail", message, "an unexpected failure: please report it")
    if isinstance(outcome, str):
        return StageResult(name, "ok", outcome)
    status, detail, fix = outcome
    return StageResult(name, status, detail, fix)
