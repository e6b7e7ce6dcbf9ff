"""The one boundary where failures become an HTTP-style code and a message that says what to fix."""

from __future__ import annotations

import queue
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Hashable

from loguru import logger
from pydantic import ValidationError
from redis import exceptions as rx
from redis.sentinel import MasterNotFoundError


class AddonError(Exception):
    """A failure the addon itself detected, already carrying its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ClosedBeforeReplyError(rx.ConnectionError):
    """The server dropped a new connection before its first reply (raised by services.client)."""

    def __init__(self, message: str, *, tls: bool) -> None:
        super().__init__(message)
        self.tls = tls


class WriteOutcomeUnknownError(rx.RedisError):
    """A command that is not safe to resend lost its connection (or timed out) after it was
    written: the server may have run it. Deliberately not a ConnectionError, so that redis-py's
    Retry never resends it (raised by services.client)."""

    def __init__(self, command: str, *, timed_out: bool) -> None:
        super().__init__(f"outcome of {command} unknown")
        self.command = command  # the command's name only, never its arguments
        self.timed_out = timed_out


class TLSHandshakeTimeoutError(TimeoutError):
    """The TLS handshake got no answer: the port most likely speaks plain Redis."""


# OpenSSL X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code), grouped by the fix.
_UNTRUSTED = {2, 18, 19, 20, 21, 27}  # unknown issuer, self-signed, not trusted
_NAME_MISMATCH = {62, 64}  # host name, IP address not in the certificate
_EXPIRED = 10
_NOT_YET_VALID = 9
# ssl.SSLError.reason values that mean "this port does not speak TLS"
_NOT_TLS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}
_NOT_TRUSTED_FIX = (
    "certificate not trusted: set ssl_ca_certs (or ssl_ca_data / the redis_ca_cert secret) "
    "to the CA that signed the server's certificate"
)


class NoPrimaryKnownError(MasterNotFoundError):
    """No sentinel named a healthy primary: why is told by who answered and what they knew."""

    def __init__(
        self, service: str, *, answered: int, monitored: bool, failures: list[BaseException]
    ) -> None:
        super().__init__(f"no primary known for {service!r}")
        self.service = service
        self.answered = answered  # sentinels that replied
        self.monitored = monitored  # whether any of them monitors the service
        self.failures = failures  # why the others did not reply


class FailoverInProgressError(rx.RedisError):
    """The sentinels are replacing the primary: the command was held, then not sent (raised by
    services.failover). Not a ConnectionError: nothing retries it."""

    def __init__(self, service: str) -> None:
        super().__init__(f"failover of {service!r} in progress")
        self.service = service


class ClusterNotServingError(rx.RedisError):
    """A cluster node reports a failed state or hash slots nobody serves."""

    def __init__(self, node: str, covered: int) -> None:
        super().__init__(f"{node} serves {covered} of 16384 slots")
        self.node = node
        self.covered = covered


def _no_primary(exc: MasterNotFoundError) -> tuple[int, str]:
    if not isinstance(exc, NoPrimaryKnownError) or (exc.answered and exc.monitored):
        service = exc.service if isinstance(exc, NoPrimaryKnownError) else "the service"
        return 503, (
            f"the sentinels know no primary for {service!r} right now: a failover is in "
            "progress; try again shortly"
        )
    if exc.answered:
        return 400, (f"no sentinel monitors a service named {exc.service!r}: check sentinel_master")
    if any(isinstance(failure, rx.AuthenticationError) for failure in exc.failures):
        return 401, (
            "the sentinels rejected the credentials: check the redis_sentinel_password secret "
            "(and sentinel_username, if the sentinels use ACL users)"
        )
    cause = _connection_cause(exc.failures[0], "sentinels") if exc.failures else "none configured"
    return 503, f"cannot reach any sentinel: {cause} (check sentinels)"


def _failed_node(exc: BaseException, target: str) -> str:
    """``target`` with the cluster node that failed, when redis-py attached it (``connection``:
    the connection or node it used); its address only, never a credential."""
    used = getattr(exc, "connection", None)
    host, port = getattr(used, "host", None), getattr(used, "port", None)
    if not isinstance(host, str) or not isinstance(port, int):
        return target
    return f"node {host}:{port} of {target}"


def _validation_message(exc: ValidationError) -> str:
    """Name each bad parameter and what is wrong with it, without echoing values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "invalid input: " + "; ".join(parts)


# redis-py puts the failing command, with its arguments (stored values), before a pipeline's
# error: "Command # 1 (SET k <value> EX 1) of pipeline caused error: <the server's reply>".
_PIPELINE_NOTE = " of pipeline caused error: "


def server_text(exc: BaseException) -> str:
    """The server's own error text, without the command arguments redis-py adds to it."""
    text = str(exc)
    if text.startswith("Command # ") and _PIPELINE_NOTE in text:
        return text.rpartition(_PIPELINE_NOTE)[2]
    return text


def _error_code(exc: rx.ResponseError) -> str:
    """The error code Redis puts first in an error reply (WRONGTYPE, OOM, NOPERM, ERR...)."""
    text = server_text(exc)
    return text.split(" ", 1)[0] if text else ""


def _certificate_cause(exc: ssl.SSLCertVerificationError) -> str:
    code = exc.verify_code
    if code in _UNTRUSTED:
        return "TLS handshake failed: " + _NOT_TRUSTED_FIX
    if code in _NAME_MISMATCH:
        return (
            "TLS handshake failed: the server's certificate is for another host name: connect "
            "with a name the certificate lists, or set ssl_check_hostname to false"
        )
    if code in (_EXPIRED, _NOT_YET_VALID):
        return "TLS handshake failed: the server's certificate is expired or not yet valid"
    return f"TLS handshake failed: the server's certificate was rejected (X509 error {code})"


def _tls_cause(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate_cause(exc)
    reason = getattr(exc, "reason", None) or ""
    if reason in _NOT_TLS:
        return (
            "TLS handshake failed: the server does not speak TLS on this port: set ssl to "
            "false (or use a redis:// url), or use the server's TLS port"
        )
    if "CERTIFICATE_REQUIRED" in reason or reason.endswith("BAD_CERTIFICATE"):
        return (
            "TLS handshake failed: the server requires a client certificate it accepts: set "
            "ssl_certfile and ssl_keyfile (or the redis_client_key secret)"
        )
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return _dropped_cause(tls=True)
    return f"TLS handshake failed ({reason or type(exc).__name__}): check the TLS options"


def _dropped_cause(*, tls: bool) -> str:
    if tls:
        return (
            "the server closed the TLS connection before answering: it may require a client "
            "certificate (set ssl_certfile and ssl_keyfile, or the redis_client_key secret)"
        )
    return (
        "the server closed the connection before answering: it most likely expects TLS: set "
        "ssl to true (or use a rediss:// url)"
    )


# A refused or failed connection, per deployment: only a single server has a host and port to
# check; in the other modes the address came from the sentinels or the slot map.
_REFUSED = {
    "standalone": "connection refused: is the server running, and are host and port right?",
    "sentinel": (
        "connection refused by the primary the sentinels named: it is down or being replaced "
        "(the sentinels name its successor after their down-after-milliseconds); try again "
        "shortly"
    ),
    "cluster": (
        "connection refused by the node: it is down (its replica takes over after the "
        "cluster-node-timeout); try again shortly"
    ),
    "sentinels": "connection refused: is each sentinel running at its address?",
}
_FAILED = {
    "standalone": "connection failed (check host, port and that the server is reachable)",
    "sentinel": "connection failed (the primary may be down or being replaced)",
    "cluster": "connection failed (the node may be down or failing over)",
    "sentinels": "connection failed: are the sentinels reachable?",
}


def _connection_cause(exc: BaseException, deployment: str = "standalone") -> str:
    """What stopped the connection, told apart by exception kind along the cause chain."""
    seen: BaseException | None = exc
    visited: set[int] = set()  # a chain may loop (an exception re-raised inside its handler)
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(seen, queue.Empty):
            return (
                "all max_connections pooled connections stayed busy for "
                "socket_connect_timeout + socket_timeout: raise max_connections or run fewer "
                "steps at once"
            )
        if isinstance(seen, ssl.SSLError):
            return _tls_cause(seen)
        if isinstance(seen, TLSHandshakeTimeoutError):
            return (
                "TLS handshake got no answer: the server most likely does not speak TLS on "
                "this port: set ssl to false (or use a redis:// url)"
            )
        if isinstance(seen, ClosedBeforeReplyError):
            return _dropped_cause(tls=seen.tls)
        if isinstance(seen, socket.gaierror):
            return "host name not found (DNS): check host (or the url's host)"
        if isinstance(seen, ConnectionRefusedError):
            return _REFUSED.get(deployment, _REFUSED["standalone"])
        if isinstance(seen, FileNotFoundError):
            return "no unix socket at the url's path: check the path and that the server runs"
        if isinstance(seen, PermissionError):
            return "permission denied on the unix socket: check the socket's file permissions"
        seen = seen.__cause__ or seen.__context__
    return _FAILED.get(deployment, _FAILED["standalone"])


_NOPERM_COMMAND = re.compile(r"run the '([^']+)' command")
_SCRIPTING = {"eval", "evalsha", "eval_ro", "evalsha_ro", "script"}  # how actions run Lua


def _permission_message(exc: rx.ResponseError, target: str, action: str) -> str:
    """Say which ACL rule is missing: the command, or the key pattern (never the user name)."""
    what = f"{action} " if action else ""
    command = _NOPERM_COMMAND.search(server_text(exc))
    if command and command.group(1) == "client|setname":
        return (
            f"{target} denied CLIENT SETNAME to this ACL user (NOPERM): grant +client|setname, "
            'or set client_name to "" so that no name is sent'
        )
    if command and command.group(1).split("|")[0] in _SCRIPTING:
        return (
            f"{target} denied {what}to this ACL user (NOPERM): the user may not run the "
            f"{command.group(1).upper()} command, which this action runs its Lua script with; "
            "grant +@scripting (or at least +evalsha +script|load)"
        )
    if command:
        return (
            f"{target} denied {what}to this ACL user (NOPERM): the user may not run the "
            f"{command.group(1).upper()} command; grant it (e.g. +@read +@write +@keyspace)"
        )
    return (
        f"{target} denied {what}to this ACL user (NOPERM): the key is outside the user's key "
        "patterns (~pattern); use a key_prefix the user may access, or widen its patterns"
    )


def describe(
    exc: BaseException,
    target: str,
    socket_timeout: float,
    action: str = "",
    deployment: str = "standalone",
) -> tuple[int, str]:
    """Map any failure of an action to ``(code, message)``; messages never contain secrets.

    ``deployment`` is the mode: it words connection failures (only a single server has a host
    and port to check). A cluster node that failed is named when redis-py tells which."""
    if deployment == "cluster":
        target = _failed_node(exc, target)
    if isinstance(exc, AddonError):
        return exc.code, exc.message
    if isinstance(exc, ValidationError):
        return 400, _validation_message(exc)
    if isinstance(exc, MasterNotFoundError):
        return _no_primary(exc)
    if isinstance(exc, FailoverInProgressError):
        return 503, (
            f"failover in progress, not applied: the sentinels are replacing the primary of "
            f"{exc.service!r}; the command was not sent (waited {socket_timeout:g}s "
            "socket_timeout for the new primary): try again shortly"
        )
    if isinstance(exc, ClusterNotServingError):
        return 503, (
            f"{target} is not serving every hash slot ({exc.node} serves {exc.covered} of "
            "16384): a node is down and no replica has taken over yet"
        )
    if isinstance(exc, rx.ClusterDownError):
        return 503, (
            f"{target} is down (CLUSTERDOWN): a primary failed and no replica has taken over "
            "yet; try again shortly"
        )
    if isinstance(exc, rx.RedisClusterException):
        if isinstance(exc.__cause__, rx.RedisError):  # no startup node answered: tell why
            return describe(exc.__cause__, target, socket_timeout)
        return 503, (
            f"{target} does not serve every one of the 16384 hash slots right now: a primary may "
            "be down with no replica to take over; try again shortly (check startup_nodes and "
            "the cluster's state)"
        )
    if isinstance(exc, rx.AuthenticationError):
        return 401, (
            f"{target} rejected the credentials: check the redis_password secret "
            "(and username, if the server uses ACL users)"
        )
    if isinstance(exc, rx.NoPermissionError):
        return 403, _permission_message(exc, target, action)
    if isinstance(exc, rx.AuthorizationError):
        return 403, f"{target} denied the command to this user: {server_text(exc)}"
    if isinstance(exc, rx.BusyLoadingError):
        return 503, f"{target} is loading its dataset into memory; try again shortly"
    if isinstance(exc, WriteOutcomeUnknownError):
        how = (
            f"did not answer within the timeout ({socket_timeout:g}s socket_timeout)"
            if exc.timed_out
            else "closed the connection"
        )
        return 504, (
            f"{target} {how} after the command was sent: the write may have been applied "
            "(it was not resent). Check its effect (read the data) before running the step again"
        )
    if isinstance(exc, rx.TimeoutError):
        if isinstance(exc.__cause__ or exc.__context__, TLSHandshakeTimeoutError):
            return 503, f"cannot reach {target}: {_connection_cause(exc, deployment)}"
        return 504, (
            f"{target} did not answer within the timeout ({socket_timeout:g}s socket_timeout); "
            "the server may be overloaded or blocked"
        )
    if isinstance(exc, rx.ConnectionError):
        return 503, f"cannot reach {target}: {_connection_cause(exc, deployment)}"
    if isinstance(exc, rx.OutOfMemoryError):
        return 507, f"{target} is out of memory (maxmemory reached with a noeviction policy)"
    if isinstance(exc, rx.ReadOnlyError):
        return 503, f"{target} is a read-only replica; point the addon at the primary"
    if isinstance(exc, rx.ResponseError):
        missing = missing_module(exc)
        if missing is not None:
            return 501, f"{target} {missing}"
        if _error_code(exc) == "WRONGTYPE":
            return 409, (
                f"the key holds a different Redis type than {action or 'this action'} works on "
                "(WRONGTYPE): use another key"
            )
        return 502, f"{target} refused the command: {server_text(exc)}"
    if isinstance(exc, rx.DataError):
        return 400, f"invalid input: {exc}"
    if isinstance(exc, UnicodeDecodeError):
        return 422, (
            "the stored value is not UTF-8 text, so it cannot be returned as a string "
            "with decode_responses on"
        )
    if isinstance(exc, TypeError | AttributeError) and _raised_in_redis_py(exc):
        # a connection closed under the command by another thread: hiredis' can_read on a
        # closed socket (_socket_is_closed(None)) when a pooled connection is checked out
        logger.warning("redis-py failed on a closed connection: {}: {}", type(exc).__name__, exc)
        return 503, (
            f"cannot reach {target}: the connection was closed while the command was being "
            "sent (another step reconnected it); try again"
        )
    return 500, f"unexpected {type(exc).__name__} in the addon"


# The modules the JSON, vector and semantic-cache actions need, by command prefix: a server
# without them answers "unknown command" (Redis 8 and Redis Stack have both built in).
MODULES = {
    "JSON.": "RedisJSON (the JSON actions)",
    "FT.": "the Query Engine, RediSearch (the vector and semantic-cache actions)",
}
MODULE_FIX = (
    "run Redis 8 (both are built in) or Redis Stack, or load the module into this server; "
    "nothing was changed"
)
_UNKNOWN_COMMAND = re.compile(r"unknown command [`']([A-Za-z]+\.[A-Za-z_]+)[`']", re.IGNORECASE)


def missing_module(exc: rx.ResponseError) -> str | None:
    """What a server lacks when it does not know a module's command (None: another error)."""
    found = _UNKNOWN_COMMAND.search(server_text(exc))
    if found is None:
        return None
    command = found.group(1).upper()
    for prefix, module in MODULES.items():
        if command.startswith(prefix):
            return f"does not have {module}: {command} is an unknown command there; {MODULE_FIX}"
    return None


def _raised_in_redis_py(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside redis-py itself (its innermost frame)."""
    trace = exc.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    module = trace.tb_frame.f_globals.get("__name__", "") if trace is not None else ""
    return module == "redis" or module.startswith("redis.")


REPEAT_INTERVAL = 10.0  # s, one log line per kind of failure in this interval
REPEAT_KINDS = 256  # kinds of failure remembered at most (oldest forgotten first)


class RepeatLimiter:
    """Lets one log line per kind of failure (code and message) through per interval.

    Under a fault storm every action fails the same way: the first failure is logged, repeats
    within ``interval`` are counted, and the next line logged for that kind says how many were
    left out since the previous one.
    """

    def __init__(
        self, interval: float = REPEAT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._seen: dict[Hashable, list[float]] = {}  # kind -> [last logged at, left out since]
        self._lock = threading.Lock()

    def admit(self, kind: Hashable) -> int | None:
        """None: leave this one out. Otherwise log it: how many were left out before it."""
        now = self._clock()
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None and now - seen[0] < self.interval:
                seen[1] += 1
                return None
            left_out = int(seen[1]) if seen is not None else 0
            self._seen.pop(kind, None)
            self._seen[kind] = [now, 0]
            while len(self._seen) > REPEAT_KINDS:
                del self._seen[next(iter(self._seen))]
            return left_out
