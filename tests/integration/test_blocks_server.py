"""The workflow building-block actions on a real redis-server, concurrency included."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from blocks import CHECKS, LIMIT, LIMITED, PREFIX, Check
from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

THREADS = 50
JOIN_TIMEOUT = 30.0  # s, longest wait for a thread pool: proves nothing hangs


@pytest.fixture
def prefixed(server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]) -> RedisRoomsAddon:
    return make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, key_prefix=PREFIX
    )


@pytest.mark.parametrize("check", CHECKS)
def test_building_block(prefixed: RedisRoomsAddon, check: Check) -> None:
    check(prefixed)


@pytest.mark.parametrize("check", LIMITED)
def test_max_value_bytes(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon], check: Check
) -> None:
    check(
        make_addon(
            password=PASSWORD,
            host="127.0.0.1",
            port=server.port,
            key_prefix=PREFIX,
            max_value_bytes=LIMIT,
        )
    )


def test_read_only_addon_still_reports_server_info(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, read_only=True)
    assert addon.server_info().code == 200
    refused = addon.increment("n")
    assert refused.code == 403
    assert server.client().exists("n") == 0


def test_server_info_reports_the_first_things_to_check(
    prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    server.client().set("a", 1, ex=100)
    server.client().set("b", 2)
    response = prefixed.server_info()
    assert response.code == 200, response.message
    out = response.output
    assert out.version == server.client().info("server")["redis_version"]
    assert (out.mode, out.role) == ("standalone", "master")
    assert out.used_memory > 0
    assert out.used_memory_human
    assert out.connected_clients >= 1
    assert out.uptime_s >= 0
    assert out.keyspace["db0"]["keys"] == 2
    assert out.keyspace["db0"]["expires"] == 1
    assert out.info is None
    memory = prefixed.server_info(section="memory").output.info
    assert "used_memory_peak" in memory
    assert "redis_version" not in memory


def test_blocking_pop_returns_as_soon_as_another_client_pushes(
    prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    def push_later() -> None:
        time.sleep(0.3)
        server.client().rpush(PREFIX + "jobs", "job-1", "job-2")

    pusher = threading.Thread(target=push_later)
    started = time.monotonic()
    pusher.start()
    out = prefixed.list_pop("jobs", count=2, wait_s=20)
    took = time.monotonic() - started
    pusher.join(JOIN_TIMEOUT)
    assert out.code == 200, out.message
    assert out.output.values == ["job-1", "job-2"]
    assert took < 10  # long before wait_s: it returned on the push


def test_blocking_pop_longer_than_the_socket_timeout_does_not_time_out(
    prefixed: RedisRoomsAddon,
) -> None:
    # socket_timeout is 2s: the 2.5s wait runs as several shorter blocking calls.
    started = time.monotonic()
    out = prefixed.list_pop("quiet", wait_s=2.5)
    took = time.monotonic() - started
    assert out.code == 200, out.message
    assert out.output.found is False
    assert 2.4 <= took < 10


def test_concurrent_increments_with_ex_never_leave_a_counter_without_ttl(
    prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    raw = server.client()
    for round_ in range(5):  # each round races to create a fresh counter
        key = f"race:{round_}"
        with ThreadPoolExecutor(THREADS) as pool:
            calls = [pool.submit(prefixed.increment, key, ex=60) for _ in range(THREADS)]
            responses = [call.result(JOIN_TIMEOUT) for call in calls]
        assert all(r.code == 200 for r in responses)
        assert sum(r.output.created for r in responses) == 1
        assert sorted(r.output.value for r in responses) == list(range(1, THREADS + 1))
        assert raw.get(PREFIX + key) == str(THREADS)
        assert 0 < raw.ttl(PREFIX + key) <= 60


def test_rate_limit_allows_exactly_limit_of_200_concurrent_calls(
    prefixed: RedisRoomsAddon,
) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        responses = list(
            pool.map(
                lambda _: prefixed.rate_limit("openai", limit=37, window_s=60),
                range(200),
                timeout=JOIN_TIMEOUT,
            )
        )
    assert all(r.code == 200 for r in responses)
    assert sum(r.output.allowed for r in responses) == 37
    assert sorted(r.output.remaining for r in responses if r.output.allowed) == list(range(37))


def test_two_workers_racing_for_a_lock(prefixed: RedisRoomsAddon, server: RedisServer) -> None:
    barrier = threading.Barrier(2)

    def worker(_: int):
        barrier.wait(JOIN_TIMEOUT)
        return prefixed.acquire_lock("lock:invoice:9", ttl_ms=30_000)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(worker, range(2), timeout=JOIN_TIMEOUT)
    winner, loser = (first, second) if first.output.acquired else (second, first)
    assert winner.output.acquired
    assert not loser.output.acquired
    # The loser cannot release the winner's lock, even with a token of its own making.
    refused = prefixed.release_lock("lock:invoice:9", "loser-guess")
    assert (refused.code, refused.output.released) == (200, False)
    assert server.client().get(PREFIX + "lock:invoice:9") == winner.output.token
    assert prefixed.release_lock("lock:invoice:9", winner.output.token).output.released
    assert server.client().exists(PREFIX + "lock:invoice:9") == 0


def test_server_info_denied_by_acl_is_403(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    server.client().acl_setuser(
        "no-info",
        enabled=True,
        passwords=["+no-info-pw"],
        keys=["*"],
        commands=["+@all", "-info"],
    )
    try:
        addon = make_addon(
            password="no-info-pw", host="127.0.0.1", port=server.port, username="no-info"
        )
        response = addon.server_info()
        assert response.code == 403
        assert "denied" in response.message
    finally:
        server.client().acl_deluser("no-info")
