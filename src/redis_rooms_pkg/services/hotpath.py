"""The hot path: one action's command sent on a pooled connection without redis-py's generic layers.

Speed only (see docs/benchmarks.md, "What was changed for speed"): every function here does
what a redis-py call does, minus scaffolding a single-key command of a standalone or sentinel
addon does not need, and each says what it saves. It is the one module that reaches into
redis-py's internals (the pool's queue and pid, a connection's parser and socket); the code
runs on every redis-py the project declares (7.4 to 8.x: CI runs the suite on the lowest).

What is kept, exactly as redis-py's ``Redis.execute_command`` does it: the pool's bound and
fair hand-off (HandOffQueue), the check at check-out that a pooled connection has no stale data
and is not closed (reconnecting once if it is), the connection's retry policy (connection errors
only, after a disconnect), the addon connections' at-most-once rules (they live in the
connection classes, which this path calls as redis-py does), reply parsing and its callbacks.
Whatever else redis-py may do around a command goes through ``execute_command`` unchanged: any
command outside :data:`HOT_COMMANDS`, metrics and tracing when redis-py's observability is on,
a pool under maintenance notifications or with client-side caching, pipelines (their own class)
and cluster and embedded clients (other classes).
"""

from __future__ import annotations

import os
import time
from queue import Empty, Full
from typing import Any

import redis
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

try:  # redis-py's OpenTelemetry support (present in every version the project declares)
    from redis.observability.providers import get_observability_instance
except ImportError:  # pragma: no cover - a redis-py without observability: nothing to record
    get_observability_instance = None

# The commands the single-key actions send: they take the hot path. Anything else (SCAN,
# INFO, CLIENT, HIMPORT...) goes through redis-py's execute_command.
HOT_COMMANDS = frozenset(
    {
        "GET", "SET", "DEL", "UNLINK", "EXISTS", "TTL", "PTTL", "TYPE", "EXPIRE", "PEXPIRE",
        "PERSIST", "MGET", "LRANGE", "LLEN", "LPOP", "RPOP", "BLPOP", "BRPOP", "HMGET",
        "HGETALL", "HDEL", "PUBLISH", "EVALSHA", "EVAL", "SCRIPT LOAD", "PING",
    }
)  # fmt: skip


def observed() -> bool:
    """Whether redis-py records metrics (its OpenTelemetry observability is set up): then every
    command takes redis-py's own path, which records them."""
    if get_observability_instance is None:  # pragma: no cover - see the import
        return False
    manager = get_observability_instance().get_provider_manager()
    return manager is not None and bool(manager.config.enabled_telemetry)


class LeanCheckout:
    """For a BlockingConnectionPool: redis-py's ``get_connection`` and ``release`` without their
    metrics scaffolding, while redis-py records no metrics.

    Saves ~10 us per command on redis-py 8 (measured in the benchmark: ``get_connection`` and
    ``release`` record connection counts and wait times through six calls that return at once
    when metrics are off, read three clocks, go through a deprecation wrapper and format the
    host name for an error message before the check-out check). What they do is kept: the fork
    check, the bound and the queue's order, a new connection in a free place, and the check
    that a checked-out connection is connected and has nothing to read, reconnecting once when
    it has (a server that dropped idle connections costs one reconnect, not a failed command).
    Whatever else (observability on, maintenance notifications, client-side caching, a forked
    process, a connection the pool does not keep) goes through redis-py's own methods.
    """

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        pool: Any = self
        if args or kwargs or not _plain(pool):
            return super().get_connection(*args, **kwargs)  # type: ignore[misc]
        try:
            connection = pool.pool.get(True, pool.timeout)
        except Empty:
            raise RedisConnectionError("No connection available.") from None
        if connection is None:
            connection = pool.make_connection()
        try:
            _ready(connection)
        except BaseException:
            pool.release(connection)  # its place in the bound is not lost
            raise
        return connection

    def release(self, connection: Any) -> None:
        pool: Any = self
        if connection._should_reconnect or not _plain(pool) or not self.keeps(connection):
            super().release(connection)  # type: ignore[misc]
            return
        try:  # noqa: SIM105 - contextlib.suppress costs a context manager per command
            pool.pool.put(connection, False)
        except Full:  # pragma: no cover - as redis-py: a pool reset meanwhile has no place
            pass

    def keeps(self, connection: Any) -> bool:
        """Whether ``connection`` goes back into the queue as it is: redis-py's ownership (made
        in this process; a sentinel pool's: still to the primary)."""
        return bool(self.owns_connection(connection))  # type: ignore[attr-defined]


def _plain(pool: Any) -> bool:
    """Whether redis-py's pool methods would do nothing but the hand-off: same process, no
    maintenance notification under way, no client-side cache, no metrics recorded."""
    return (
        pool.pid == os.getpid()
        and not pool._in_maintenance
        and pool.cache is None
        and not observed()
    )


def _ready(connection: Any) -> None:
    """Connect ``connection`` if it is not, and check it has no stale data nor a closed socket:
    ``get_connection``'s check-out check (connect, then ``can_read`` polls the socket), calling
    the parser's poll directly (saves formatting the host name for an error message that is
    not raised).

    Data waiting at check-out is a reply nobody read (or a push): the connection is replaced,
    as redis-py 7.4's blocking pool does. redis-py 8 lets it through when maintenance
    notifications are enabled (on by default with RESP3), for a maintenance push to be read
    with the next reply; here such a push costs a reconnect instead, and a stale reply can
    never be read as the next command's."""
    if connection._sock is None:
        connection.connect()
    try:
        stale = _pending(connection)
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        stale = True
    if stale:  # closed by the server, or a reply left unread: a fresh connection
        connection.disconnect()
        connection.connect()
        if _pending(connection):
            raise RedisConnectionError("Connection not ready")


def _pending(connection: Any) -> bool:
    """Whether the socket has data to read or was closed (redis-py's ``can_read``)."""
    try:
        return bool(connection._parser.can_read(0))
    except OSError as exc:
        connection.disconnect()
        raise RedisConnectionError(f"Error while reading from the socket: {exc.args}") from exc


class LeanRedis(redis.Redis):
    """redis-py's client, sending the single-key commands (:data:`HOT_COMMANDS`) on the hot path.

    ``hot_path`` False sends everything through redis-py's ``execute_command`` (a test compares
    both paths' answers for every action).
    """

    hot_path = True

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.hot_path and args[0] in HOT_COMMANDS and not observed():
            return send_on_pooled_connection(self, args, options)
        return super().execute_command(*args, **options)


def send_on_pooled_connection(client: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    """``client.execute_command(*args, **options)`` on a connection from the lean hand-off.

    Saves ~5 us per command over ``Redis._execute_command`` (which times the command for
    metrics, wraps the failure callback to record them and checks per-connection HIMPORT
    state). The same steps otherwise: the connection's retry policy around send and parse,
    a disconnect before each retry, the connection back to the pool whatever happens.
    """
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        return connection.retry.call_with_retry(
            lambda: _send_and_parse(client, connection, args, options),
            lambda _error: connection.disconnect(),
        )
    finally:
        pool.release(connection)


def _send_and_parse(
    client: Any, connection: Any, args: tuple[Any, ...], options: dict[str, Any]
) -> Any:
    if not _exchanges(connection):
        connection.send_command(*args, **options)
        return client.parse_response(connection, args[0], **options)
    # redis-py's parse_response around the connection's one-call exchange
    try:
        response = connection.exchange(args, NEVER_DECODE in options)
    except ResponseError:
        if EMPTY_RESPONSE in options:
            return options[EMPTY_RESPONSE]
        raise
    callback = client.response_callbacks.get(args[0])
    if callback is None:
        return response
    kept = {name: value for name, value in options.items() if name not in _NOT_FOR_CALLBACKS}
    return callback(response, **kept)


_NOT_FOR_CALLBACKS = frozenset({NEVER_DECODE, EMPTY_RESPONSE, "keys"})  # parse_response drops


def _exchanges(connection: Any) -> bool:
    """Whether ``connection`` can send a command and read its reply in one call (an addon
    connection's ``exchange``): connected and past its first reply (the first-reply watch
    reads that one), and no health check due (redis-py's send runs it: a PING after
    ``health_check_interval`` idle seconds). RESP2 or RESP3 alike: the parser itself hands
    push messages to their handlers and reads on to the reply."""
    interval = connection.health_check_interval
    return (
        connection._sock is not None
        and getattr(connection, "exchange", None) is not None
        and not getattr(connection, "_awaiting_first_reply", False)
        and not (interval and time.monotonic() > connection.next_health_check)
    )
