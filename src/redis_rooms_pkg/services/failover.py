"""What keeps writes honest while a deployment changes: pools that drop idle connections without
closing one a caller just took, and the watcher of the sentinels' failover announcements."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from typing import Any

import redis
from loguru import logger

from redis_rooms_pkg.services.errors import FailoverInProgressError


class DropsIdleSafely:
    """For a BlockingConnectionPool: idle connections are closed while no caller can take one.

    redis-py closes a pool's idle connections on a cluster slot-map refresh (after any node
    error) and when the sentinels name a new primary. It lists them, then closes them one by one;
    a connection another thread took from the queue in between was closed under its command,
    which redis-py then resent (a write applied twice) or failed on (TypeError in hiredis'
    can_read). Here the queue stays locked while they are closed: a caller waits those
    microseconds, then gets a closed connection that reconnects.
    """

    def disconnect_free_connections(self, moving_address_src: str | None = None) -> None:
        self._close_idle(moving_address_src)

    def disconnect(self, inuse_connections: bool = True) -> None:
        if inuse_connections:
            super().disconnect(inuse_connections=True)  # type: ignore[misc]
        else:
            self._close_idle(None)

    def _close_idle(self, address: str | None) -> None:
        pool: Any = self
        with pool._lock, pool.pool.mutex:  # the order redis-py's pool takes them in
            for connection in pool.pool.queue:
                if connection is not None and pool._should_update_connection(
                    connection, "connected_address", address
                ):
                    connection.disconnect()


# What the sentinels publish on their pub/sub while they replace a primary, in order. Before the
# promotion the old primary still takes writes that its successor will never have: hold them.
FAILOVER_STARTED = frozenset(
    {
        "+try-failover",
        "+elected-leader",
        "+failover-state-select-slave",
        "+selected-slave",
        "+failover-state-send-slaveof-noone",
        "+failover-state-wait-promotion",
    }
)
NEW_PRIMARY = frozenset({"+promoted-slave", "+switch-master"})
CHANNELS = (*FAILOVER_STARTED, *NEW_PRIMARY)
ABORTED = "-failover-abort-*"  # -failover-abort-not-elected, -no-good-slave, -slave-timeout...
FAILOVER_HOLD = 10.0  # s, the longest a failover is believed in progress without news
REPLACED_FOR = 30.0  # s, how long a sentinel still naming a replaced primary is not believed
RESUBSCRIBE = 1.0  # s, pause before subscribing again to a sentinel that dropped the link
POLL = 0.02  # s, wait for a message from one sentinel before looking at the next


Address = tuple[str, int]


def parse_announcement(channel: str, data: str) -> tuple[str, Address | None, Address | None]:
    """(service, old primary, new primary) from a sentinel event; addresses when the event
    names them. ``+switch-master`` says "<service> <old ip> <old port> <new ip> <new port>";
    the others "<role> <name> <ip> <port> [@ <service> <ip> <port>]"."""
    parts = data.split()
    if channel == "+switch-master" and len(parts) == 5:
        return parts[0], (parts[1], int(parts[2])), (parts[3], int(parts[4]))
    if "@" in parts:
        at = parts.index("@")
        if len(parts) < at + 4 or at < 4:
            return "", None, None
        primary = (parts[at + 2], int(parts[at + 3]))
        if channel == "+promoted-slave":
            return parts[at + 1], primary, (parts[2], int(parts[3]))
        return parts[at + 1], primary, None
    if len(parts) >= 4 and parts[0] == "master":
        return parts[1], (parts[2], int(parts[3])), None
    return "", None, None


class FailoverWatch:
    """Follows the sentinels' announcements for one service, for one pool.

    A thread (started by the first command, stopped by :meth:`stop`) subscribes on every
    sentinel. From the start of a failover until the new primary is named, :meth:`gate` holds
    new commands (up to ``wait`` seconds, then FailoverInProgressError: not sent). When the new
    primary is named (``+promoted-slave``, ``+switch-master``), the pool's idle connections to
    the old one are closed and the new address is used at once, even while a sentinel that has
    not heard yet still names the old one. Without the watcher a graceful failover lost writes:
    the old primary took them for seconds after its replica had been promoted.
    """

    def __init__(self, sentinels: list[Any], service: str, pool: Any, wait: float) -> None:
        self.sentinels = sentinels  # redis-py clients of the sentinels
        self.service = service
        self._pool = weakref.ref(pool)  # a pool dropped without close() ends the thread
        self.wait = wait
        self.subscribed = 0  # sentinels listened to right now
        self._changed = threading.Condition()
        self._failing_over_until = 0.0
        self._primary: Address | None = None  # the last primary the sentinels announced
        self._replaced: dict[Address, float] = {}  # former primaries, when they were replaced
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    # --- what the pool and the sentinel manager ask -------------------------------------------

    def gate(self) -> None:
        """Return at once unless a failover is in progress: then wait for the new primary (up
        to ``wait`` s) or raise FailoverInProgressError."""
        self.start()
        with self._changed:
            if not self._in_progress():
                return
            self._changed.wait_for(lambda: not self._in_progress(), timeout=self.wait)
            if self._in_progress():
                raise FailoverInProgressError(self.service)

    def believed(self, address: Address) -> bool:
        """Whether a sentinel naming ``address`` as the primary is believed: not when it was
        replaced by an announced failover moments ago (that sentinel has not heard yet)."""
        with self._changed:
            replaced = self._replaced.get(address)
            return replaced is None or time.monotonic() - replaced > REPLACED_FOR

    def announced(self) -> Address | None:
        with self._changed:
            return self._primary

    def start(self) -> None:
        if self._thread is not None or self._stopped.is_set():
            return
        with self._changed:
            if self._thread is None and not self._stopped.is_set():
                thread = threading.Thread(
                    target=self._listen, name=f"failover-watch-{self.service}", daemon=True
                )
                thread.start()
                self._thread = thread  # published only once started: stop() may join it

    def stop(self) -> None:
        self._stopped.set()
        with self._changed:  # a start() under way has published its thread by now
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(RESUBSCRIBE + POLL * len(self.sentinels) + 1)

    # --- the thread ---------------------------------------------------------------------------

    def _in_progress(self) -> bool:
        return time.monotonic() < self._failing_over_until

    def _listen(self) -> None:
        links: list[Any] = [None] * len(self.sentinels)
        retry_at = [0.0] * len(self.sentinels)
        try:
            while not self._stopped.is_set() and self._pool() is not None:
                for number, sentinel in enumerate(self.sentinels):
                    if self._stopped.is_set():
                        break
                    if links[number] is None:
                        if time.monotonic() < retry_at[number]:
                            continue
                        links[number] = self._subscribe(sentinel)
                        if links[number] is None:
                            retry_at[number] = time.monotonic() + RESUBSCRIBE
                            continue
                        self.subscribed += 1
                    try:
                        message = links[number].get_message(
                            ignore_subscribe_messages=True, timeout=POLL
                        )
                    except (redis.RedisError, OSError, ValueError, AttributeError, TypeError):
                        _close(links[number])
                        links[number] = None
                        self.subscribed -= 1
                        retry_at[number] = time.monotonic() + RESUBSCRIBE
                        continue
                    if message and message.get("type") in ("message", "pmessage"):
                        self._heard(_text(message["channel"]), _text(message["data"]))
                if not any(links):
                    self._stopped.wait(POLL)
        finally:
            for link in links:
                _close(link)
            self.subscribed = 0

    def _subscribe(self, sentinel: Any) -> Any:
        link = sentinel.pubsub(ignore_subscribe_messages=True)
        try:
            link.subscribe(*CHANNELS)
            link.psubscribe(ABORTED)
        except (redis.RedisError, OSError) as exc:
            logger.debug("cannot listen to a sentinel's failover announcements: {}", exc)
            _close(link)
            return None
        return link

    def _heard(self, channel: str, data: str) -> None:
        try:
            service, old, new = parse_announcement(channel, data)
        except ValueError:
            return
        if service != self.service:
            return
        with self._changed:
            if channel in FAILOVER_STARTED:
                if not self._in_progress():
                    logger.warning(
                        "sentinels started a failover of {} (primary {}): new commands wait "
                        "for its successor",
                        self.service,
                        _name(old),
                    )
                self._failing_over_until = time.monotonic() + FAILOVER_HOLD
            elif channel.startswith("-failover-abort"):
                self._failing_over_until = 0.0
                logger.warning("sentinels gave up a failover of {} ({})", self.service, channel)
            elif channel in NEW_PRIMARY and new is not None:
                self._failing_over_until = 0.0
                if new != self._primary:
                    self._switch(old, new)
            self._changed.notify_all()

    def _switch(self, old: Address | None, new: Address) -> None:
        self._primary = new
        self._replaced.pop(new, None)
        if old is not None and old != new:
            self._replaced[old] = time.monotonic()
        pool = self._pool()
        if pool is not None:
            pool.proxy.master_address = new  # connections to another address: dropped on release
            pool.disconnect(inuse_connections=False)
        logger.warning(
            "sentinels named {} the primary of {} (was {}): its connections were dropped",
            _name(new),
            self.service,
            _name(old),
        )


class FollowsFailovers:
    """For the sentinel pool: every check-out passes the failover watch's gate first."""

    failover_watch: FailoverWatch | None = None

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        if self.failover_watch is not None:
            self.failover_watch.gate()
        return super().get_connection(*args, **kwargs)  # type: ignore[misc]


def _name(address: Address | None) -> str:
    return f"{address[0]}:{address[1]}" if address else "unknown"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _close(link: Any) -> None:
    if link is not None:
        with contextlib.suppress(Exception):
            link.close()
