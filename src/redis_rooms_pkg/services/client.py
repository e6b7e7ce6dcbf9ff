"""The one place that builds Redis clients from an addon's configuration and secrets."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from queue import Empty, Full, LifoQueue
from typing import Any

import redis
from pydantic import ValidationError
from redis._parsers.socket import SERVER_CLOSED_CONNECTION_ERROR  # redis-py's EOF message
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import (
    REDIS_CLUSTER_HASH_SLOTS,
    ClusterNode,
    LoadBalancingStrategy,
    RedisCluster,
)
from redis.connection import (
    AbstractConnection,
    BlockingConnectionPool,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.exceptions import ClusterDownError, SlotNotCoveredError
from redis.retry import Retry
from redis.sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)

from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import (
    AddonError,
    ClosedBeforeReplyError,
    ClusterNotServingError,
    NoPrimaryKnownError,
    TLSHandshakeTimeoutError,
    WriteOutcomeUnknownError,
)
from redis_rooms_pkg.services.failover import DropsIdleSafely, FailoverWatch, FollowsFailovers
from redis_rooms_pkg.services.hotpath import LeanCheckout, LeanRedis

RETRY_BACKOFF_BASE = 0.05  # s, first backoff step
RETRY_BACKOFF_CAP = 1.0  # s, longest backoff step

ClientBuilder = Callable[[CustomAddonConfig, Credentials], redis.Redis]


def retry_policy(config: CustomAddonConfig) -> Retry:
    """Retry on connection errors only: a timed-out command may have run, so it is not resent.

    A connection error after a command that is not safe to resend was written never reaches
    this policy: the connection turns it into WriteOutcomeUnknownError (see _AtMostOnce).
    """
    return Retry(
        ExponentialWithJitterBackoff(base=RETRY_BACKOFF_BASE, cap=RETRY_BACKOFF_CAP),
        retries=config.retry_attempts,
        supported_errors=(redis.ConnectionError,),
    )


# Commands whose effect and answer are the same when run twice: resent after a lost reply.
# Every other command (DEL, UNLINK, INCR*, *PUSH, *POP, EVAL*, HSET, PUBLISH, PERSIST...) is
# sent at most once once it may have reached the server.
RESEND_SAFE = frozenset(
    {
        # reads
        "GET", "MGET", "EXISTS", "TTL", "PTTL", "TYPE", "STRLEN", "GETRANGE", "LRANGE", "LLEN",
        "LINDEX", "HGET", "HMGET", "HGETALL", "HLEN", "HEXISTS", "HKEYS", "HVALS", "HSTRLEN",
        "SCAN", "HSCAN", "SSCAN", "ZSCAN", "SMEMBERS", "SCARD", "SISMEMBER", "ZRANGE", "ZCARD",
        "ZSCORE", "SMISMEMBER", "XLEN", "XINFO", "XPENDING", "XRANGE", "DBSIZE", "INFO", "PING",
        "ECHO", "TIME", "ROLE", "MEMORY", "OBJECT",
        "COMMAND", "CLUSTER", "SENTINEL",
        # connection set-up and script loading: same state when run twice
        "AUTH", "HELLO", "SELECT", "CLIENT", "READONLY", "READWRITE", "SCRIPT",
        # writes that leave the same state and give the same answer when repeated
        "SET", "MSET", "SETEX", "PSETEX", "EXPIRE", "PEXPIRE",
        # the frame of a transaction: safe when everything inside it is
        "MULTI", "EXEC",
    }
)  # fmt: skip
# Options that make a write's answer (or effect) depend on the state a first run left.
_CONDITIONAL = frozenset({"NX", "XX", "GET", "GT", "LT", "IFEQ"})


def _text(arg: Any) -> str:
    if isinstance(arg, bytes | bytearray | memoryview):
        return bytes(arg).decode("latin-1").upper()
    return arg.upper() if isinstance(arg, str) else ""


def command_name(first: Any) -> str:
    """The command a command's first argument names ("GET", "SCRIPT" for "SCRIPT LOAD")."""
    if type(first) is str:
        return _name_of(first)
    return _text(first).split(" ", 1)[0]


@functools.lru_cache(maxsize=256)
def _name_of(first: str) -> str:
    """command_name of a text first argument, remembered: saves ~0.3 us per command (the few
    names the actions send, upper-cased and split once, not on every command)."""
    return first.upper().split(" ", 1)[0]


def resend_safe(args: tuple[Any, ...] | list[Any]) -> bool:
    """Whether the command ``args`` may be sent again after its reply was lost."""
    if not args:
        return False
    name = command_name(args[0])
    if name not in RESEND_SAFE:
        return False
    if name in ("SET", "EXPIRE", "PEXPIRE"):  # SET key value [options], EXPIRE key n [options]
        return not any(_text(arg) in _CONDITIONAL for arg in args[3:])
    return True


class _AtMostOnce:
    """Never lets a command that may have run be resent unless it is safe to resend.

    send_command (one command) and pack_commands (a pipeline) note whether what is about to be
    written is safe to resend. Failures before the bytes are written (connect, health check)
    stay connection errors, which the retry policy retries. After that, a connection error or
    timeout of a command that is not safe to resend becomes WriteOutcomeUnknownError, which is
    no ConnectionError, so redis-py's Retry does not resend it; the connection is closed first,
    so a reply that may still arrive is never read by the next command.
    """

    _next_safe = False  # what the coming send_packed_command writes
    _sent_safe = True  # what the replies being read belong to
    _next_name = ""
    _sent_name = ""

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        self._next_safe = resend_safe(args)
        self._next_name = command_name(args[0]) if args else ""
        super().send_command(*args, **kwargs)  # type: ignore[misc]

    def pack_commands(self, commands: Any) -> Any:
        commands = list(commands)
        self._next_safe = all(resend_safe(args) for args in commands)
        self._next_name = "a pipeline" if len(commands) > 1 else _text(commands[0][0])
        return super().pack_commands(commands)  # type: ignore[misc]

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        safe, self._next_safe = self._next_safe, False  # a packed command alone: not safe
        name, self._next_name = getattr(self, "_next_name", ""), "a command"
        # before anything is written: failures here are retried (connect, stale connection)
        if not self._sock:  # type: ignore[attr-defined]
            self.connect_check_health(check_health=False)  # type: ignore[attr-defined]
        if check_health:
            self.check_health()  # type: ignore[attr-defined]
        self._sent_safe, self._sent_name = safe, name
        try:
            super().send_packed_command(command, check_health=False)  # type: ignore[misc]
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._outcome_unknown(exc)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._outcome_unknown(exc)
            raise

    def exchange(self, args: tuple[Any, ...], disable_decoding: bool = False) -> Any:
        """``send_command(*args)`` then ``read_response()``: one command and its reply, for the
        hot path (services/hotpath.py), which calls it on a connected connection that has had
        its first reply and is not due for a health check.

        Saves ~8 us CPU per command (docs/benchmarks.md) over the two calls it replaces, which go
        through this class, the first-reply watch and redis-py's connection, each catching and
        re-raising, and format the server's address for an error message before every read.
        The same effects: the same bytes written (the connection's packer), redis-py's errors
        and messages, a failed write or read closes the connection, an error reply is raised
        (:meth:`_refused`), and a connection error or timeout after a command not safe to
        resend becomes WriteOutcomeUnknownError (:meth:`_outcome_unknown`).
        """
        self._sent_safe = resend_safe(args)
        self._sent_name = command_name(args[0])
        try:
            self._write(self._command_packer.pack(*args))  # type: ignore[attr-defined]
            response = self._read(disable_decoding)
            if isinstance(response, redis.ResponseError):
                self._refused(response)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._outcome_unknown(exc)
            raise
        self._answered()
        return response

    def exchange_all(self, commands: list[tuple[tuple[Any, ...], bool]]) -> list[Any]:
        """A pipeline's ``pack_commands`` and ``send_packed_command``, then ``read_response``
        for each command (``(args, disable_decoding)``), for the hot path's pipelines: every
        reply in order, an error reply in its command's place (as redis-py's pipeline reads
        them). The same effects as :meth:`exchange`, for the pipeline as a whole: resent only
        if every command in it is safe to resend.
        """
        self._sent_safe = all(resend_safe(args) for args, _ in commands)
        self._sent_name = "a pipeline" if len(commands) > 1 else _text(commands[0][0][0])
        replies = []
        try:
            packed = AbstractConnection.pack_commands(self, [args for args, _ in commands])  # type: ignore[arg-type]
            self._write(packed)
            for _, raw in commands:
                reply = self._read(raw)
                if isinstance(reply, redis.ResponseError):  # the command's answer, unless
                    with contextlib.suppress(redis.ResponseError):  # a demoted primary's
                        self._refused(reply)
                replies.append(reply)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._outcome_unknown(exc)
            raise
        self._answered()
        return replies

    def _answered(self) -> None:
        """As redis-py's read_response after a reply: the next health check is due an
        interval from now."""
        interval = self.health_check_interval  # type: ignore[attr-defined]
        if interval:
            self.next_health_check = time.monotonic() + interval

    def _write(self, packed: list[bytes]) -> None:
        """redis-py's send_packed_command after its connect and health check."""
        sock: Any = self._sock  # type: ignore[attr-defined]
        try:
            for item in packed:
                sock.sendall(item)
        except TimeoutError as exc:  # socket.timeout
            self.disconnect()  # type: ignore[attr-defined]
            raise redis.TimeoutError("Timeout writing to socket") from exc
        except OSError as exc:
            self.disconnect()  # type: ignore[attr-defined]
            number, text = ("UNKNOWN", exc.args[0]) if len(exc.args) == 1 else exc.args[:2]
            raise redis.ConnectionError(f"Error {number} while writing to socket. {text}.") from exc
        except BaseException:
            self.disconnect()  # type: ignore[attr-defined]
            raise

    def _read(self, disable_decoding: bool) -> Any:
        """redis-py's read_response up to the error reply (closing the connection on a failed
        read; push messages are the parser's: it hands them on and reads the reply)."""
        try:
            return self._parser.read_response(  # type: ignore[attr-defined]
                disable_decoding=disable_decoding
            )
        except TimeoutError as exc:  # socket.timeout
            self.disconnect()  # type: ignore[attr-defined]
            raise redis.TimeoutError(
                f"Timeout reading from {self._host_error()}"  # type: ignore[attr-defined]
            ) from exc
        except OSError as exc:
            self.disconnect()  # type: ignore[attr-defined]
            raise redis.ConnectionError(
                f"Error while reading from {self._host_error()} : {exc.args}"  # type: ignore[attr-defined]
            ) from exc
        except BaseException:
            self.disconnect()  # type: ignore[attr-defined]
            raise

    def _refused(self, error: redis.ResponseError) -> None:
        """An error reply read by :meth:`exchange`: raised, as redis-py's read_response does."""
        raise error

    def _outcome_unknown(self, exc: redis.RedisError) -> None:
        refused = exc.__cause__ or exc.__context__  # the demoted primary's READONLY (sentinel)
        if self._sent_safe or isinstance(refused, redis.ReadOnlyError):
            return  # resend-safe; or refused by a demoted primary (sentinel): not applied
        self._sent_safe = True
        self.disconnect()  # type: ignore[attr-defined]
        raise WriteOutcomeUnknownError(
            self._sent_name, timed_out=isinstance(exc, redis.TimeoutError)
        ) from exc


class _FirstReplyWatch:
    """Marks a connection the server drops before its first reply (a TLS port, mTLS refusal)."""

    _awaiting_first_reply = False

    def _connect(self) -> socket.socket:
        self._awaiting_first_reply = False
        sock = super()._connect()  # type: ignore[misc]
        self._awaiting_first_reply = True
        return sock

    def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except redis.ConnectionError as exc:
            self._raise_if_dropped(exc)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except redis.ConnectionError as exc:
            self._raise_if_dropped(exc)
            raise
        self._awaiting_first_reply = False
        return response

    def _raise_if_dropped(self, exc: redis.ConnectionError) -> None:
        if not self._awaiting_first_reply:
            return
        dropped = isinstance(exc.__cause__ or exc.__context__, OSError) or (
            str(exc) == SERVER_CLOSED_CONNECTION_ERROR
        )
        if dropped:
            self._awaiting_first_reply = False
            raise ClosedBeforeReplyError(str(exc), tls=isinstance(self, SSLConnection)) from exc


class AddonConnection(_AtMostOnce, _FirstReplyWatch, Connection):
    """TCP connection."""


class AddonUnixConnection(_AtMostOnce, UnixDomainSocketConnection):
    """Unix socket connection (no TLS there, so no first-reply watch)."""


class AddonSSLConnection(_AtMostOnce, _FirstReplyWatch, SSLConnection):
    """TLS connection; a handshake that gets no answer is told apart from a TCP timeout."""

    def _wrap_socket_with_ssl(self, sock: socket.socket) -> socket.socket:
        try:
            return super()._wrap_socket_with_ssl(sock)
        except TimeoutError as exc:
            raise TLSHandshakeTimeoutError("no answer to the TLS handshake") from exc


class HandOffQueue(LifoQueue):
    """The pool's queue of free connections, serving waiters in arrival order.

    redis-py's BlockingConnectionPool waits on a LifoQueue: a released connection goes to
    whichever thread takes the queue's lock first, so a thread that releases and asks again at
    once can keep beating a thread that has waited since long before (starved until the pool
    timeout). Here a released connection is handed straight to the longest waiter; a taker
    without waiters ahead of it still gets the most recently used connection (LIFO).
    """

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self.waiters: deque[_Waiter] = deque()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        with self.mutex:
            if self.queue and not self.waiters:  # the usual case, first: a free connection
                return self.queue.pop()
            if not block:
                raise Empty
            waiter = _Waiter()
            self.waiters.append(waiter)
        if waiter.served.wait(timeout):
            return waiter.item
        with self.mutex:
            if waiter.served.is_set():  # handed over just as the wait timed out
                return waiter.item
            self.waiters.remove(waiter)
        raise Empty

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self.mutex:
            if self.waiters:
                waiter = self.waiters.popleft()
                waiter.item = item
                waiter.served.set()
                return
            if 0 < self.maxsize <= len(self.queue):
                raise Full
            self.queue.append(item)


class _Waiter:
    __slots__ = ("item", "served")

    def __init__(self) -> None:
        self.item: Any = None
        self.served = threading.Event()


class Renewable:
    """For a BlockingConnectionPool: new options (credentials) and close() without a second pool.

    One pool serves an addon for its whole life, across credential reloads and close(), so a
    server never sees more than max_connections connections from it: :meth:`renew` and
    :meth:`retire` close the idle connections at once and the busy ones when they come back
    (their place in the bound goes to a new connection), instead of opening a second pool next
    to the first while the busy connections of the old one reconnect outside any bound.
    """

    generation = 0  # connections made before the last renew/retire are not reused

    def make_connection(self) -> Any:
        connection = super().make_connection()  # type: ignore[misc]
        connection.pool_generation = self.generation
        return connection

    def keeps(self, connection: Any) -> bool:
        return getattr(
            connection, "pool_generation", self.generation
        ) == self.generation and super().keeps(connection)  # type: ignore[misc]

    def release(self, connection: Any) -> None:
        pool: Any = self
        if getattr(connection, "pool_generation", self.generation) == self.generation:
            super().release(connection)  # type: ignore[misc]
            return
        connection.disconnect()  # made with options since replaced: never reused
        with pool._lock:
            if connection in pool._connections:
                pool._connections.remove(connection)
        pool.pool.put(None, block=False)  # its place in the bound: a new connection

    def renew_options(self, options: dict[str, Any]) -> None:
        """Connect with ``options`` from now on; the idle connections close now."""
        pool: Any = self
        with pool._lock:
            pool.connection_class = options.pop("connection_class", pool.connection_class)
            pool.connection_kwargs = options
            self._drop_idle()

    def retire(self) -> None:
        """Close every idle connection now and every busy one when released (close())."""
        pool: Any = self
        with pool._lock:
            self._drop_idle()

    def _drop_idle(self) -> None:
        """Close the idle connections and put placeholders in their place (holding _lock)."""
        pool: Any = self
        self.generation += 1
        queue = pool.pool
        with queue.mutex:
            for index, connection in enumerate(queue.queue):
                if connection is not None:
                    connection.disconnect()
                    pool._connections.remove(connection)
                    queue.queue[index] = None


class AddonPool(Renewable, LeanCheckout, BlockingConnectionPool):
    """A bounded pool: callers wait for a free connection instead of opening more; renewed in
    place on a credential reload (see Renewable).

    It owns the private files its connections read (a client key given as a secret): they are
    removed by :meth:`retire`, :meth:`renew` (the old ones), or when the pool is
    garbage-collected or Python exits.
    """

    def __init__(self, *, private_files: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(queue_class=HandOffQueue, **kwargs)
        self.private_files = private_files
        self._remove_files = weakref.finalize(self, _remove, private_files)

    def renew(self, *, private_files: tuple[str, ...] = (), **options: Any) -> None:
        """Connect with ``options`` from now on (new credentials); the bound stays."""
        with self._lock:
            old, self.private_files = self.private_files, private_files
            self._remove_files.detach()
            self._remove_files = weakref.finalize(self, _remove, private_files)
            self.renew_options(options)
        _remove(old)

    def retire(self) -> None:
        super().retire()
        self.remove_private_files()

    def remove_private_files(self) -> None:
        self._remove_files()


def _private_file(text: str) -> str:
    """Write ``text`` to a new file only this user can read (mkstemp creates it 0600)."""
    fd, path = tempfile.mkstemp(prefix="rooms-redis-", suffix=".pem")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def _remove(paths: tuple[str, ...]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _secret(credentials: Credentials, key: str) -> str | None:
    value = credentials.get(key)
    return value.get_secret_value() if value else None


def _tls_options(config: CustomAddonConfig, credentials: Credentials) -> dict[str, Any]:
    """redis-py's ssl_* options; a client key given as a secret goes to a private temp file."""
    options: dict[str, Any] = {
        "ssl_cert_reqs": config.ssl_cert_reqs,
        "ssl_check_hostname": config.check_hostname(),
        "ssl_ca_certs": config.ssl_ca_certs,
        "ssl_ca_data": _secret(credentials, "redis_ca_cert") or config.ssl_ca_data,
        "ssl_certfile": config.ssl_certfile,
        "ssl_keyfile": config.ssl_keyfile,
    }
    key = _secret(credentials, "redis_client_key")
    if key:
        if not config.ssl_certfile:
            raise AddonError(
                400, "the redis_client_key secret needs ssl_certfile (the client certificate)"
            )
        options["ssl_keyfile"] = _private_file(key)
    return options


def connection_options(config: CustomAddonConfig, credentials: Credentials) -> dict[str, Any]:
    """The pool's connection options: url parts win over fields, secrets win over the url."""
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "db": config.db,
        "username": config.username,
        "decode_responses": config.decode_responses,
        "socket_timeout": config.socket_timeout,
        "socket_connect_timeout": config.socket_connect_timeout,
        "health_check_interval": config.health_check_interval,
        "client_name": (
            config.default_client_name() if config.client_name is None else config.client_name
        )
        or None,
        "retry": retry_policy(config),
    }
    if config.url is not None:
        options.update(parse_url(config.url.get_secret_value()))
    for key, option in (("redis_username", "username"), ("redis_password", "password")):
        value = _secret(credentials, key)
        if value:
            options[option] = value
    scheme = config.url_scheme()
    if scheme == "unix":
        options.pop("host", None)
        options.pop("port", None)
        options["connection_class"] = AddonUnixConnection
    elif config.uses_tls():
        options["connection_class"] = AddonSSLConnection
    else:
        options["connection_class"] = AddonConnection
    return options


def _with_tls(
    config: CustomAddonConfig, credentials: Credentials, options: dict[str, Any]
) -> tuple[str, ...]:
    """Add the ssl_* options when the connections use TLS; the private files that creates."""
    if options["connection_class"] is not AddonSSLConnection:
        return ()
    options.update(_tls_options(config, credentials))
    if options["ssl_keyfile"] and options["ssl_keyfile"] != config.ssl_keyfile:
        return (options["ssl_keyfile"],)
    return ()


def _pool_wait(config: CustomAddonConfig) -> float:
    """How long an action waits at most for a connection another action frees (s)."""
    return config.socket_connect_timeout + config.socket_timeout


def _standalone(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    pool = AddonPool(
        max_connections=config.max_connections,
        timeout=_pool_wait(config),
        private_files=private,
        **options,
    )
    return LeanRedis(connection_pool=pool)


def _owns_files(client: Any, private: tuple[str, ...]) -> Any:
    """Tie private files (a client key given as a secret) to ``client``'s life, as AddonPool."""
    client.remove_private_files = weakref.finalize(client, _remove, private)
    return client


class ClusterNodePool(Renewable, DropsIdleSafely, BlockingConnectionPool):
    """A cluster node's bounded pool, safe when a slot-map refresh drops its idle connections,
    renewed in place on a credential reload (see Renewable)."""


class AddonRedisCluster(RedisCluster):
    """redis-py's cluster client, resending a command after a timeout never.

    redis-py resends a command on any node ``TimeoutError`` (after refreshing the slot map),
    whatever the retry policy says: a write the frozen node had already run was applied twice.
    A timeout here is answered (504) as on a single server; connection errors, a cluster that is
    down or an uncovered slot are still retried with a fresh slot map.
    """

    ERRORS_ALLOW_RETRY = (redis.ConnectionError, ClusterDownError, SlotNotCoveredError)


def _node_options(
    config: CustomAddonConfig, credentials: Credentials
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What every cluster node's connections take, and the private files they read."""
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    for not_per_node in ("host", "port", "db", "retry", "health_check_interval"):
        options.pop(not_per_node, None)
    return options, private


def _cluster(config: CustomAddonConfig, credentials: Credentials) -> RedisCluster:
    """A RedisCluster client: it asks the startup nodes for the slot map (so it connects now).

    Every node gets what a single server gets: auth, TLS, timeouts, client name and a bounded,
    blocking pool of at most max_connections. Retries happen at cluster level (redis-py gives
    node connections none).
    """
    options, private = _node_options(config, credentials)
    (host, port), *others = config.cluster_nodes()
    try:
        client = AddonRedisCluster(
            # redis-py builds node pools of connection_pool_class only for a cluster given by url:
            # the first startup node goes as one (host and port only, never a credential)
            url=f"redis://[{host}]:{port}" if ":" in host else f"redis://{host}:{port}",
            startup_nodes=[ClusterNode(host, port) for host, port in others],
            connection_pool_class=ClusterNodePool,
            max_connections=config.max_connections,
            timeout=_pool_wait(config),
            require_full_coverage=True,
            load_balancing_strategy=(
                LoadBalancingStrategy.ROUND_ROBIN if config.read_from_replicas else None
            ),
            retry=retry_policy(config),
            **options,
        )
    except BaseException:
        _remove(private)  # connecting failed: no copy of the key is left behind
        raise
    return _owns_files(client, private)


class AddonSentinel(Sentinel):
    """redis-py's Sentinel, telling apart why no primary was found (see NoPrimaryKnownError)."""

    watch: FailoverWatch | None = None  # the sentinels' announcements, once followed

    def discover_master(self, service_name: str) -> tuple[str, int]:
        failures: list[BaseException] = []
        monitored = stale = False
        for number, sentinel in enumerate(self.sentinels):
            try:
                masters = sentinel.sentinel_masters()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                failures.append(exc)
                continue
            state = masters.get(service_name)
            monitored = monitored or state is not None
            if state and self.check_master_state(state, service_name):
                if self.watch is not None and not self.watch.believed((state["ip"], state["port"])):
                    stale = True  # names a primary just replaced: this sentinel has not heard yet
                    continue
                # ask this sentinel first next time, as redis-py does
                self.sentinels[0], self.sentinels[number] = sentinel, self.sentinels[0]
                return state["ip"], state["port"]
        announced = self.watch.announced() if self.watch is not None else None
        if stale and announced is not None:  # the others have not heard of the switch yet
            return announced
        raise NoPrimaryKnownError(
            service_name,
            answered=len(self.sentinels) - len(failures),
            monitored=monitored,
            failures=failures,
        )


class _ClosesOnFailedRead:
    """A connection whose reply did not arrive is never used again (first in a sentinel
    connection's bases: its ``_refused`` is the one ``_AtMostOnce.exchange`` calls).

    redis-py's sentinel connection reads with ``disconnect_on_error=False``: after a timeout it
    went back to the pool with the late reply still due, and the next command read it as its
    own (another key's value, "OK" for a counter). Here a failed read closes the connection, as
    redis-py's plain connection does; callers that ask otherwise (push reads) still can.
    """

    def read_response(self, *args: Any, disconnect_on_error: bool = True, **kwargs: Any) -> Any:
        return super().read_response(  # type: ignore[misc]
            *args, disconnect_on_error=disconnect_on_error, **kwargs
        )

    def _refused(self, error: redis.ResponseError) -> None:
        """An error reply read by ``exchange``: as redis-py's sentinel connection reads it. A
        primary the sentinels demoted refuses writes (READONLY): the connection closes and a
        connection error makes the retry policy ask the sentinels for the new primary (the
        write was not applied, so it is resent)."""
        if isinstance(error, redis.ReadOnlyError) and self.connection_pool.is_master:  # type: ignore[attr-defined]
            self.disconnect()  # type: ignore[attr-defined]
            raise redis.ConnectionError("The previous master is now a slave") from error
        raise error


class AddonSentinelConnection(_ClosesOnFailedRead, _AtMostOnce, SentinelManagedConnection):
    """Connection to the primary the sentinels name, sending unsafe commands at most once."""


class AddonSentinelSSLConnection(_ClosesOnFailedRead, _AtMostOnce, SentinelManagedSSLConnection):
    """TLS connection to the primary the sentinels name, as AddonSentinelConnection."""


class AddonSentinelPool(
    Renewable,
    FollowsFailovers,
    LeanCheckout,
    DropsIdleSafely,
    SentinelConnectionPool,
    BlockingConnectionPool,
):
    """redis-py's sentinel pool made bounded like AddonPool: callers wait for a connection.

    The sentinel pool finds the primary's address; the blocking pool hands out at most
    max_connections connections, in arrival order, and drops those to a former primary on
    release; renewed in place on a credential reload (see Renewable).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, queue_class=HandOffQueue, **kwargs)

    def renew_options(self, options: dict[str, Any]) -> None:
        # the sentinel-managed connections find their pool (and through it the primary) here
        proxy = self.connection_kwargs["connection_pool"]
        super().renew_options({**options, "connection_pool": proxy})


def _sentinel_options(
    config: CustomAddonConfig, credentials: Credentials
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """The primary's connection options, the sentinels' and the private files they read."""
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    tls = options.pop("connection_class") is AddonSSLConnection
    options["connection_class"] = AddonSentinelSSLConnection if tls else AddonSentinelConnection
    for found_by_the_sentinels in ("host", "port"):
        options.pop(found_by_the_sentinels, None)
    tls_options = {name: value for name, value in options.items() if name.startswith("ssl_")}
    sentinel_options = {
        "username": config.sentinel_username,
        "password": _secret(credentials, "redis_sentinel_password"),
        "ssl": tls,
        **tls_options,
        "socket_timeout": config.socket_timeout,
        "socket_connect_timeout": config.socket_connect_timeout,
        "client_name": options["client_name"],
        "decode_responses": True,  # sentinel replies are parsed as text
        # one try per sentinel, the next sentinel is asked at once; the retry policy of the
        # primary's connections repeats the whole discovery
        "retry": Retry(NoBackoff(), retries=0),
    }
    return options, sentinel_options, private


def _sentinel(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    """A client of the primary the sentinels name; it asks them again after a failover.

    The primary's connections take the shared options (auth, TLS, timeouts, client name, retry);
    the sentinels take the same TLS and timeouts with their own username and password.
    """
    options, sentinel_options, private = _sentinel_options(config, credentials)
    tls = options["connection_class"] is AddonSentinelSSLConnection
    sentinel = AddonSentinel(config.sentinel_addresses(), sentinel_kwargs=sentinel_options)
    assert config.sentinel_master is not None  # checked when the config loads
    client = sentinel.master_for(
        config.sentinel_master,
        redis_class=LeanRedis,
        connection_pool_class=AddonSentinelPool,
        ssl=tls,
        max_connections=config.max_connections,
        timeout=_pool_wait(config),
        **options,
    )
    watch = FailoverWatch(
        sentinel.sentinels, config.sentinel_master, client.connection_pool, config.socket_timeout
    )
    client.connection_pool.failover_watch = sentinel.watch = watch
    return _owns_files(client, private)


def _embedded(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    try:
        import fakeredis
    except ImportError as exc:
        raise AddonError(500, EMBEDDED_MISSING) from exc
    return fakeredis.FakeRedis(
        server=fakeredis.FakeServer(),
        db=config.db,
        decode_responses=config.decode_responses,
    )


EMBEDDED_MISSING = (
    'mode "embedded" needs fakeredis: install the extra with '
    "pip install 'redis-rooms-pkg[embedded]' (or poetry add 'redis-rooms-pkg[embedded]')"
)

BUILDERS: dict[str, ClientBuilder] = {
    "standalone": _standalone,
    "embedded": _embedded,
    "cluster": _cluster,
    "sentinel": _sentinel,
}


def effective_config(config: CustomAddonConfig, credentials: Credentials) -> CustomAddonConfig:
    """The configuration clients are built from: with the redis_url secret, when given, in
    place of the entry's url (400 naming the fault, never the URL, when it cannot be used)."""
    url = credentials.get("redis_url")
    if url is None:
        return config
    try:
        return config.with_url(url)
    except ValidationError as exc:
        faults = "; ".join(
            str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise AddonError(400, f"the redis_url secret cannot be used: {faults}") from None
    except ValueError as exc:
        raise AddonError(400, f"the redis_url secret cannot be used: {exc}") from None


def build_client(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    """A pooled client for the configured deployment; opens no socket until first used (except
    a cluster client, which reads the slot map from the startup nodes when built)."""
    config = effective_config(config, credentials)
    client = BUILDERS[config.mode](config, credentials)
    if config.mode in ("cluster", "sentinel"):
        client.addon_servers = _servers(config)  # renewed in place only while they stay
    return client


def _servers(config: CustomAddonConfig) -> tuple[Any, ...]:
    """The servers a cluster or sentinel client finds its nodes from."""
    if config.mode == "cluster":
        return ("cluster", tuple(config.cluster_nodes()))
    return ("sentinel", tuple(config.sentinel_addresses()), config.sentinel_master, config.db)


def renew_client(
    client: redis.Redis | RedisCluster, config: CustomAddonConfig, credentials: Credentials
) -> bool:
    """Point ``client``'s pools at the current secrets, keeping the pools and their bound (a
    cluster's per node, a sentinel-found primary's, the sentinels' own connections too); False
    when the client cannot be renewed in place (embedded; a redis_url secret that now names
    other cluster nodes or sentinels: build anew)."""
    config = effective_config(config, credentials)
    pool = getattr(client, "connection_pool", None)
    if config.mode == "standalone" and isinstance(pool, AddonPool):
        options = connection_options(config, credentials)
        private = _with_tls(config, credentials, options)
        pool.renew(private_files=private, **options)
        return True
    if getattr(client, "addon_servers", None) != _servers(config):
        return False  # a redis_url secret naming other servers: a new client finds them
    if config.mode == "cluster" and isinstance(client, RedisCluster):
        options, private = _node_options(config, credentials)
        client.nodes_manager.connection_kwargs.update(options)  # nodes found from now on
        for node_pool in _node_pools(client):
            node_pool.renew_options({**node_pool.connection_kwargs, **options})
        _replace_files(client, private)
        return True
    if config.mode == "sentinel" and isinstance(pool, AddonSentinelPool):
        options, sentinel_options, private = _sentinel_options(config, credentials)
        pool.renew_options(options)
        for sentinel in pool.sentinel_manager.sentinels:
            sentinel_pool = sentinel.connection_pool
            with sentinel_pool._lock:
                sentinel_pool.connection_kwargs.update(
                    username=sentinel_options["username"], password=sentinel_options["password"]
                )
            sentinel_pool.disconnect(inuse_connections=False)  # the idle ones reconnect anew
        _replace_files(client, private)
        return True
    return False


def _node_pools(client: RedisCluster) -> list[Renewable]:
    """The pools of the cluster nodes ``client`` knows (each bounded by max_connections)."""
    nodes = client.nodes_manager
    known = [*nodes.nodes_cache.values(), *nodes.startup_nodes.values()]
    pools = {
        id(pool): pool
        for node in known
        if node.redis_connection is not None
        and isinstance(pool := node.redis_connection.connection_pool, Renewable)
    }
    return list(pools.values())


def _replace_files(client: Any, private: tuple[str, ...]) -> None:
    """``client`` owns ``private`` from now on; the files it owned before are removed."""
    old = getattr(client, "remove_private_files", None)
    _owns_files(client, private)
    if old is not None:
        old()


def retire_client(client: redis.Redis | RedisCluster) -> bool:
    """Close the idle connections of a client kept for reuse (busy ones when released); False
    when the client cannot be kept (it was closed with close_client instead)."""
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, AddonPool):
        pool.retire()
        return True
    if isinstance(client, RedisCluster):
        for node_pool in _node_pools(client):
            node_pool.retire()
        return True
    if isinstance(pool, AddonSentinelPool):
        pool.retire()
        watch = getattr(pool, "failover_watch", None)
        if watch is not None:  # its subscriptions end; a new one follows from the next command
            watch.stop()
            sentinel = pool.sentinel_manager
            pool.failover_watch = sentinel.watch = FailoverWatch(
                sentinel.sentinels, watch.service, pool, watch.wait
            )
        for sentinel_client in pool.sentinel_manager.sentinels:
            sentinel_client.connection_pool.disconnect(inuse_connections=False)
        return True
    close_client(client)
    return False


def close_client(client: redis.Redis | RedisCluster) -> None:
    """Close every connection the client holds (a cluster's per-node pools, the sentinels'
    too) and remove any private file it or its pool owns."""
    client.close()
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        watch = getattr(pool, "failover_watch", None)
        if watch is not None:
            watch.stop()
        pool.disconnect()
        for sentinel in getattr(getattr(pool, "sentinel_manager", None), "sentinels", ()):
            sentinel.close()
        if isinstance(pool, AddonPool):
            pool.remove_private_files()
    remove_files = getattr(client, "remove_private_files", None)
    if remove_files is not None:
        remove_files()


def check_deployment(client: redis.Redis | RedisCluster) -> None:
    """Raise unless the whole deployment serves: every primary of a cluster with all slots
    covered; the primary a sentinel names; else the one server answering PING."""
    if not isinstance(client, RedisCluster):
        client.ping()
        return
    states = client.cluster_info(target_nodes=RedisCluster.PRIMARIES)
    if "cluster_state" in states:  # a cluster of one primary: its reply alone
        states = {"the only primary": states}
    for node, info in states.items():
        covered = int(info.get("cluster_slots_ok", 0))
        if info.get("cluster_state") != "ok" or covered != REDIS_CLUSTER_HASH_SLOTS:
            raise ClusterNotServingError(node, covered)
