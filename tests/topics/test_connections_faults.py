"""Faults on real servers: out of memory, a server that never answers, an exhausted pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import PASSWORD
from managed_fixtures import readme_example
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services.client import RETRY_BACKOFF_CAP
from servers import RedisServer, SilentServer

pytestmark = pytest.mark.integration  # some tests start their own redis-server

LoadAddon = Callable[..., RedisRoomsAddon]


def pool_entry(port: int, **swap: object) -> dict:
    return readme_example("pool", swap={"host": "127.0.0.1", "port": port, **swap})


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A dedicated server whose memory limit is set just above what it uses when empty."""
    server = RedisServer(tmp_path, password=PASSWORD).start()
    raw = server.client()
    used = raw.info("memory")["used_memory"]
    raw.config_set("maxmemory-policy", "noeviction")
    raw.config_set("maxmemory", used + 2 * 1024 * 1024)
    yield server
    server.stop()


def test_out_of_memory_is_507_and_reads_still_work(
    small_server: RedisServer, load_addon: LoadAddon
) -> None:
    addon = load_addon(pool_entry(small_server.port), redis_password=PASSWORD)
    value = "x" * 100_000
    codes = []
    for i in range(200):  # 20 MB at most: far above the 2 MB of headroom
        response = addon.set_key(f"blob:{i}", value)
        codes.append(response.code)
        if response.code != 200:
            break
    assert codes[0] == 200
    assert codes[-1] == 507, codes
    assert "out of memory" in response.message
    assert "noeviction" in response.message
    assert addon.get_key("blob:0").output.found is True
    assert addon.delete_key("blob:0").code == 200  # freeing memory is allowed
    assert addon.set_key("small", "ok").code == 200


def test_unresponsive_server_is_504_within_timeout_times_attempts(
    silent_server: SilentServer, load_addon: LoadAddon
) -> None:
    socket_timeout, attempts = 0.5, 2
    entry = pool_entry(silent_server.port, socket_timeout=socket_timeout, retry_attempts=attempts)
    addon = load_addon(entry, redis_password=PASSWORD)
    bound = socket_timeout * (attempts + 1) + attempts * RETRY_BACKOFF_CAP
    for action in (
        lambda: addon.set_key("k", "v"),
        lambda: addon.get_key("k"),
        lambda: addon.list_keys("*"),
    ):
        started = time.monotonic()
        response = action()
        elapsed = time.monotonic() - started
        assert response.code == 504
        assert "did not answer within the timeout (0.5s socket_timeout)" in response.message
        assert elapsed < bound + 1.0, elapsed  # generous: proves it does not hang
    started = time.monotonic()
    assert addon.test() is False
    assert time.monotonic() - started < bound + 1.0


def test_exhausted_pool_waits_then_says_raise_max_connections(
    server: RedisServer, load_addon: LoadAddon
) -> None:
    entry = pool_entry(server.port, max_connections=1, socket_timeout=0.3)
    entry["config"]["socket_connect_timeout"] = 0.3
    addon = load_addon(entry, redis_password=PASSWORD)
    pool = addon.client().connection_pool
    held = pool.get_connection()  # another step holding the only connection
    started = time.monotonic()
    response = addon.get_key("k")
    waited = time.monotonic() - started
    assert response.code == 503
    assert "raise max_connections" in response.message
    assert waited < 3.0  # a bounded wait (0.6 s here), not a hang
    pool.release(held)
    assert addon.get_key("k").code == 200


def test_idle_pooled_connection_is_health_checked(
    server: RedisServer, load_addon: LoadAddon
) -> None:
    entry = pool_entry(server.port, health_check_interval=1)
    addon = load_addon(entry, redis_password=PASSWORD)
    assert addon.set_key("k", "v").code == 200
    raw = server.client()
    raw.config_resetstat()
    time.sleep(1.2)  # idle for longer than health_check_interval
    assert addon.get_key("k").code == 200
    assert raw.info("commandstats")["cmdstat_ping"]["calls"] >= 1
