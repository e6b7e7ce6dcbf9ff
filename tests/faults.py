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
