"""Fault helpers for the deployment tests: freeze a server process, run bounded writer threads."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

FREEZE = 1.5  # s, how long a frozen server stays stopped (above socket_timeout, below failover)
SOCKET_TIMEOUT = 0.5  # s, the addon's socket_timeout in the freeze tests
WRITERS_DEADLINE = 30.0  # s, bound on a writer thread's whole run


@contextmanager
def frozen(server: RedisServer, seconds: float = FREEZE) -> Iterator[None]:
    """Stop ``server``'s process (SIGSTOP) for at least ``seconds``, then let it go on."""
    assert server.proc is not None
    started = time.monotonic()
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


def frozen_then_read(addon: RedisRoomsAddon, server: RedisServer, keys: tuple[str, str]) -> None:
    """The replies a frozen server sends late are never read as another command's reply.

    ``keys`` (alpha, beta) hold their own names as values; while ``server`` is frozen a read of
    beta and an increment time out; afterwards every read of alpha answers alpha's value.
    """
    alpha, beta = keys
    for key in keys:
        assert addon.set_key(key, f"value of {key}").code == 200
    with frozen(server):
        during = [addon.get_key(beta), addon.increment(f"{alpha}-counter")]
    assert {response.code for response in during} <= {200, 503, 504}, [
        (r.code, r.message) for r in during
    ]
    after = [addon.get_key(alpha) for _ in range(4)] + [addon.get_key(beta)]
    assert [(r.code, r.output.value) for r in after] == [(200, f"value of {alpha}")] * 4 + [
        (200, f"value of {beta}")
    ], [(r.code, r.output.value, r.message) for r in after]
    counter = addon.increment(f"{alpha}-counter")
    assert counter.code == 200, counter.message


@dataclass
class Tally:
    """What writer threads were told: acknowledged, unknown-outcome and refused writes."""

    acknowledged: list[Any] = field(default_factory=list)
    unknown: list[Any] = field(default_factory=list)  # 504: may have been applied
    refused: list[Any] = field(default_factory=list)  # any other code: not applied
    codes: dict[int, int] = field(default_factory=dict)
    messages: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, item: Any, code: int, message: str) -> None:
        with self.lock:
            self.codes[code] = self.codes.get(code, 0) + 1
            if code == 200:
                self.acknowledged.append(item)
            elif code == 504:
                self.unknown.append(item)
                self.messages.setdefault(code, message)
            else:
                self.refused.append(item)
                self.messages.setdefault(code, message)


def run_writers(
    threads: int,
    write: Callable[[int, int], tuple[Any, int, str]],
    until: Callable[[], bool],
    most: int = 100_000,
) -> Tally:
    """``threads`` threads call ``write(thread, n)`` until ``until()`` (or ``most`` calls each,
    or WRITERS_DEADLINE); each call returns (item, code, message), tallied."""
    tally = Tally()
    deadline = time.monotonic() + WRITERS_DEADLINE

    def work(number: int) -> None:
        for n in range(most):
            if until() or time.monotonic() > deadline:
                return
            tally.record(*write(number, n))

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WRITERS_DEADLINE + 5)
    assert not any(worker.is_alive() for worker in workers), "a writer thread hung"
    return tally


@dataclass
class Ledger:
    """Counted writes of writer threads: per thread a counter (increment) and a list of unique
    values (list_push), on keys that share ``tag``'s hash slot."""

    addon: RedisRoomsAddon
    tag: str
    counters: Tally = field(default_factory=Tally)
    pushes: Tally = field(default_factory=Tally)

    def counter(self, thread: int) -> str:
        return f"{{{self.tag}}}counter:{thread}"

    def list(self, thread: int) -> str:
        return f"{{{self.tag}}}list:{thread}"

    def write(self, thread: int, n: int) -> tuple[Any, int, str]:
        """Even calls increment the thread's counter, odd calls push a new value on its list."""
        if n % 2 == 0:
            response = self.addon.increment(self.counter(thread))
            self.counters.record(thread, response.code, response.message)
        else:
            value = f"{thread}-{n}"
            response = self.addon.list_push(self.list(thread), [value])
            self.pushes.record(value, response.code, response.message)
        return None, response.code, response.message

    def check(
        self, read: Callable[[str], Any], threads: int, lost_ok: bool = False
    ) -> dict[str, int]:
        """Compare with what the server holds (``read(key)``: GET for a counter, LRANGE for a
        list); the figures, after asserting that no acknowledged write is lost (unless
        ``lost_ok``: the caller bounds it) or doubled and that none answered as refused was
        applied."""
        stored: list[str] = []
        lost_counts = doubled_counts = 0
        for thread in range(threads):
            held = int(read(self.counter(thread)) or 0)
            acknowledged = self.counters.acknowledged.count(thread)
            unknown = self.counters.unknown.count(thread)
            lost_counts += max(0, acknowledged - held)
            doubled_counts += max(0, held - acknowledged - unknown)
            stored += read(self.list(thread)) or []
        acknowledged = set(self.pushes.acknowledged)
        figures = {
            "acknowledged": len(self.counters.acknowledged) + len(acknowledged),
            "unknown (504)": len(self.counters.unknown) + len(self.pushes.unknown),
            "refused": len(self.counters.refused) + len(self.pushes.refused),
            "lost": lost_counts + len(acknowledged - set(stored)),
            "doubled": doubled_counts + len(stored) - len(set(stored)),
            "applied though refused": len(set(self.pushes.refused) & set(stored)),
        }
        seen = (figures, self.counters.codes, self.pushes.codes, self.pushes.messages)
        assert lost_ok or figures["lost"] == 0, seen
        assert (figures["doubled"], figures["applied though refused"]) == (0, 0), seen
        return figures


def node_id(server: RedisServer) -> str:
    return server.client(socket_timeout=5).execute_command("CLUSTER", "MYID")


def move_slot(slot: int, source: RedisServer, target: RedisServer, primaries: list[RedisServer]):
    """Move hash slot ``slot`` with its keys from ``source`` to ``target`` while clients use it,
    as ``redis-cli --cluster reshard`` does: IMPORTING/MIGRATING, MIGRATE in batches, then
    SETSLOT NODE on every primary."""
    source_client = source.client(socket_timeout=5)
    target_client = target.client(socket_timeout=5)
    source_id, target_id = node_id(source), node_id(target)
    target_client.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    source_client.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    for _ in range(10_000):  # bounded: a few keys per batch until the slot is empty
        keys = source_client.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 5)
        if not keys:
            break
        source_client.execute_command(
            "MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
            "AUTH", target.password, "KEYS", *keys,
        )  # fmt: skip
        time.sleep(0.01)  # let writers hit the half-moved slot (ASK redirections)
    for node in (target, source, *primaries):
        node.client(socket_timeout=5).execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)


def idle_drop_spares_checked_out(pool: Any, drop: Callable[[], None], key: str) -> None:
    """While ``drop()`` (a slot-map refresh, a new primary) closes ``pool``'s idle connections,
    a thread that checks one out meanwhile keeps it open until its reply arrives.

    The first close is slowed down (0.3 s) so that the check-out lands inside the drop; the
    command (a BLPOP waiting 0.5 s on the server) is in flight when the next close comes.
    """
    held = [pool.get_connection() for _ in range(2)]
    for connection in held:
        pool.release(connection)
    slowed: list[Any] = []
    for connection in held:
        plain = connection.disconnect

        def slow(*args: Any, _plain: Any = plain, **kwargs: Any) -> None:
            if not slowed:
                slowed.append(True)
                time.sleep(0.3)
            _plain(*args, **kwargs)

        connection.disconnect = slow
    dropper = threading.Thread(target=drop)
    dropper.start()
    try:
        time.sleep(0.1)  # the drop is inside its first (slowed) close
        connection = pool.get_connection()
        try:
            connection.send_command("BLPOP", key, "0.5")
            assert connection.read_response() is None  # nothing to pop: timed out server-side
        finally:
            pool.release(connection)
    finally:
        dropper.join()
        for connection in held:
            connection.__dict__.pop("disconnect", None)
