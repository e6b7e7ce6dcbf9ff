"""The bounded pool serves waiting steps in arrival order (issue 11, defect 11)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services.client import AddonConnection, AddonPool
from servers import RedisServer

WAIT_BOUND = 5.0  # s, longest wait for a thread to start waiting on the pool


def waiting(pool: AddonPool) -> int:
    """How many threads wait for a connection (redis-py's stock queue keeps them in its
    condition; the addon's queue in its own list)."""
    queue = pool.pool
    return len(getattr(queue, "waiters", None) or queue.not_empty._waiters)


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_BOUND
    while not check():
        assert time.monotonic() < deadline, "the thread never started waiting"
        time.sleep(0.005)


def test_a_released_connection_goes_to_the_thread_that_waited_first(server: RedisServer) -> None:
    """The releasing thread asks again at once; the thread that waited first still gets it."""
    pool = AddonPool(
        max_connections=1,
        timeout=WAIT_BOUND,
        host="127.0.0.1",
        port=server.port,
        password=PASSWORD,
        connection_class=AddonConnection,
    )
    order: list[str] = []
    held = pool.get_connection()

    def first() -> None:
        connection = pool.get_connection()
        order.append("waited first")
        pool.release(connection)

    waiter = threading.Thread(target=first)
    waiter.start()
    try:
        wait_until(lambda: waiting(pool) == 1)
        pool.release(held)
        again = pool.get_connection()
        order.append("released and asked again")
        pool.release(again)
    finally:
        waiter.join(WAIT_BOUND)
        pool.disconnect()
    assert order == ["waited first", "released and asked again"]


def test_waiters_are_served_in_arrival_order(server: RedisServer) -> None:
    pool = AddonPool(
        max_connections=1,
        timeout=WAIT_BOUND,
        host="127.0.0.1",
        port=server.port,
        password=PASSWORD,
        connection_class=AddonConnection,
    )
    order: list[int] = []
    held = pool.get_connection()

    def take(number: int) -> None:
        connection = pool.get_connection()
        order.append(number)
        pool.release(connection)

    threads = []
    for number in range(4):
        threads.append(threading.Thread(target=take, args=(number,)))
        threads[-1].start()
        wait_until(lambda n=number: waiting(pool) == n + 1)
    pool.release(held)
    for thread in threads:
        thread.join(WAIT_BOUND)
    pool.disconnect()
    assert order == [0, 1, 2, 3]


def test_eight_threads_on_two_connections_never_time_out(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD,
        host="127.0.0.1",
        port=server.port,
        max_connections=2,
        socket_timeout=1,
        socket_connect_timeout=1,
    )

    def steps(thread: int) -> list[int]:
        codes = []
        for _ in range(300):
            codes.append(addon.increment(f"c{thread}").code)
            codes.append(addon.get_key(f"c{thread}").code)
        return codes

    with ThreadPoolExecutor(8) as threads:
        codes = [code for result in threads.map(steps, range(8)) for code in result]
    assert set(codes) == {200}
    raw = server.client()
    assert [raw.get(f"c{t}") for t in range(8)] == ["300"] * 8
