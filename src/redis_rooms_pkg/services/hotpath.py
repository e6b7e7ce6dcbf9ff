"""The hot path: one action's command sent on a pooled connection without redis-py's generic layers.

Speed only (see docs/benchmarks.md, "What was changed for speed"): every function here does
what a redis-py call does, minus scaffolding a command or pipeline of a standalone or sentinel
addon does not need, and each says what it saves. It is the one module that reaches into
redis-py's internals (the pool's queue and pid, a connection's parser and socket); the code
runs on every redis-py the project declares (7.4 to 8.x: CI runs the suite on the lowest).

What is kept, exactly as redis-py's ``Redis.execute_command`` does it: the pool's bound and
fair hand-off (HandOffQueue), the check at check-out that a pooled connection has no stale data
and is not closed (reconnecting once if it is), the connection's retry policy (connection errors
only, after a disconnect), the addon connections' at-most-once rules (they live in the
connection classes, whose ``exchange`` and ``exchange_all`` send and read in one call), reply
parsing and its callbacks.
Whatever else redis-py may do around a command goes through ``execute_command`` unchanged: any
command in :data:`COLD_COMMANDS`, metrics and tracing when redis-py's observability is on,
a pool under maintenance notifications or with client-side caching, transactions (MULTI/EXEC)
and cluster and embedded clients (other classes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
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

# Commands that keep redis-py's execute_command: HIMPORT SET depends on per-connection state
# there (redis-py 8), in its split or joined form (the actions send command names in capitals).
# Every other command (GET, SET, EVALSHA, SCAN, SADD, ZRANGE, XADD, INFO...) takes the hot
# path: redis-py's execute_command does nothing per command name besides HIMPORT's bookkeeping
# and the metrics this path leaves to ``observed``.
COLD_COMMANDS = frozenset({"HIMPORT", "HIMPORT SET"})


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
    """redis-py's client, sending the actions' commands (all but :data:`COLD_COMMANDS`) on the
    hot path, and its pipelines (:class:`LeanPipeline`) too.

    ``hot_path`` False sends everything through redis-py's ``execute_command`` and pipeline
    (a test compares both paths' answers for every action).
    """

    hot_path = True

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.hot_path and args[0] not in COLD_COMMANDS and not observed():
            return send_on_pooled_connection(self, args, options)
        return super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> redis.client.Pipeline:
        pipe = LeanPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.hot_path = self.hot_path
        return pipe


class LeanPipeline(redis.client.Pipeline):
    """redis-py's pipeline, whose commands (without MULTI) are written and their replies read
    in one call on the connection (``exchange_all``), as :func:`send_on_pooled_connection`
    does for one command.

    Saves ~3 us per command in the pipeline (each reply read through redis-py's
    ``parse_response`` and the connection's ``read_response`` formats the server's address for
    an error message and goes through three wrapper frames) and redis-py 8's HIMPORT scan of
    the commands. Everything else of redis-py's ``execute`` is kept: the connection from the
    pool, its retry policy and the disconnect before a retry, the error replies in their
    commands' places (and raised first when ``raise_on_error``), the reply callbacks, the
    connection back to the pool. A transaction (MULTI/EXEC), WATCH, HIMPORT, redis-py's
    metrics on, or a connection not ready for ``exchange_all`` take redis-py's own path.
    """

    hot_path = True

    def execute(self, raise_on_error: bool = True) -> list:
        """redis-py's ``execute`` of a pipeline without MULTI, scripts or WATCH: a connection
        from the pool, the commands sent and read under its retry policy (a disconnect before
        each retry), the connection released by ``reset``. Saves redis-py 8's metrics
        scaffolding around it (three recorder calls and clocks, a closure per call)."""
        if (
            self.transaction
            or self.explicit_transaction
            or self.scripts
            or self.watching
            or not self.hot_path
            or observed()
        ):
            return super().execute(raise_on_error)
        stack = self.command_stack
        if not stack:
            return []
        connection = self.connection
        if not connection:
            connection = self.connection = self.connection_pool.get_connection()
        try:
            return _retried(
                connection, lambda: self._execute_pipeline(connection, stack, raise_on_error)
            )
        finally:
            self.reset()  # releases the connection to the pool, as redis-py's execute does

    def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: bool) -> list:
        if not (
            self.hot_path
            and _exchanges(connection)
            and not observed()
            and all(args[0] not in _PIPELINE_COLD for args, _ in commands)
        ):
            return super()._execute_pipeline(connection, commands, raise_on_error)
        replies = connection.exchange_all(
            [(args, NEVER_DECODE in options) for args, options in commands]
        )
        responses = [
            _answer(self, args, options, reply)
            for (args, options), reply in zip(commands, replies, strict=True)
        ]
        if raise_on_error:
            self.raise_first_error(commands, responses)
        return responses


# A pipeline with these takes redis-py's path: it tracks WATCH state per command.
_PIPELINE_COLD = COLD_COMMANDS | {"WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD"}


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
        return _retried(connection, lambda: _send_and_parse(client, connection, args, options))
    finally:
        pool.release(connection)


def _retried(connection: Any, attempt: Callable[[], Any]) -> Any:
    """``connection.retry.call_with_retry(attempt, disconnect)``, the first try made outside
    the retry policy's frames (saves ~1 us: most commands succeed at once).

    The policy gets a first failure as if its own first try had raised it: the same errors
    retried (others raised as they are), the same number of tries, the same disconnect and
    backoff before each retry.
    """
    try:
        return attempt()
    except Exception as error:
        failed = [error]

    def again() -> Any:
        if failed:
            raise failed.pop()
        return attempt()

    return connection.retry.call_with_retry(again, lambda _error: connection.disconnect())


def _send_and_parse(
    client: Any, connection: Any, args: tuple[Any, ...], options: dict[str, Any]
) -> Any:
    if not _exchanges(connection):
        connection.send_command(*args, **options)
        return client.parse_response(connection, args[0], **options)
    try:
        response = connection.exchange(args, NEVER_DECODE in options)
    except ResponseError as error:
        return _answer(client, args, options, error, raise_error=True)
    return _answer(client, args, options, response)


def _answer(
    client: Any,
    args: tuple[Any, ...],
    options: dict[str, Any],
    reply: Any,
    raise_error: bool = False,
) -> Any:
    """What redis-py's ``parse_response`` makes of a command's ``reply``: an error reply is
    raised (``raise_error``; a pipeline keeps it in its place) unless the command's options
    give an ``EMPTY_RESPONSE`` for it; the reply callback gets the options it takes."""
    if isinstance(reply, ResponseError):
        if EMPTY_RESPONSE in options:
            return options[EMPTY_RESPONSE]
        if raise_error:
            raise reply
        return reply
    callback = client.response_callbacks.get(args[0])
    if callback is None:
        return reply
    kept = {name: value for name, value in options.items() if name not in _NOT_FOR_CALLBACKS}
    return callback(reply, **kept)


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
