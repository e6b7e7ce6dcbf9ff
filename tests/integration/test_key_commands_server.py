"""What the richer actions send to a real server: one atomic command, few round trips, no KEYS."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

TOTAL_KEYS = 200_000
FILL_CHUNK = 10_000  # keys per MSET while filling the server


def calls(server: RedisServer) -> dict[str, int]:
    """Commands the server ran since the last reset, by name."""
    stats: dict[str, Any] = server.client().info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def reset(server: RedisServer) -> None:
    server.client().config_resetstat()


def test_set_options_are_one_set_command(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    reset(server)
    response = real_addon.set_key("k", "v", px=5000, nx=True, get_previous=True)
    assert (response.code, response.output.written) == (200, True)
    ran = calls(server)
    assert ran.get("set") == 1
    assert not {"expire", "pexpire", "get", "setnx", "multi"} & set(ran)


def test_get_many_is_one_mget(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    server.client().mset({f"k{i}": i for i in range(50)})
    reset(server)
    assert real_addon.get_many([f"k{i}" for i in range(60)]).output.found_count == 50
    ran = calls(server)
    assert ran.get("mget") == 1
    assert "get" not in ran


def test_set_many_commands(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    reset(server)
    assert real_addon.set_many({f"k{i}": i for i in range(50)}).output.count == 50
    ran = calls(server)
    assert ran.get("mset") == 1  # no expiry, no condition: one atomic MSET
    assert "set" not in ran
    reset(server)
    assert real_addon.set_many({f"t{i}": i for i in range(50)}, ex=60).output.count == 50
    ran = calls(server)
    assert ran.get("set") == 50  # each key written with its TTL in one command
    assert "expire" not in ran


def test_deletes_use_unlink_and_scan(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    server.client().mset({f"tmp:{i}": i for i in range(3000)} | {"a": 1, "b": 1})
    reset(server)
    assert real_addon.delete_key(keys=["a", "b"]).output.deleted_count == 2
    assert real_addon.delete_matching("tmp:*").output.deleted_count == 3000
    ran = calls(server)
    assert ran.get("unlink", 0) >= 2
    assert ran.get("scan", 0) >= 3
    assert "del" not in ran
    assert "keys" not in ran


def test_listing_200k_keys_pages_through_all_exactly_once(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    raw = server.client()
    for start in range(0, TOTAL_KEYS, FILL_CHUNK):
        raw.mset({f"item:{i}": "v" for i in range(start, start + FILL_CHUNK)})
    assert raw.dbsize() == TOTAL_KEYS
    reset(server)

    began = time.monotonic()
    first = real_addon.list_keys("item:*", limit=100)
    assert time.monotonic() - began < 2.0  # a small page of a huge keyspace returns fast
    assert first.output.truncated is True
    assert 100 <= first.output.count < 200  # stops near the limit, not after the whole keyspace
    assert calls(server)["scan"] < 20

    seen: list[str] = list(first.output.keys)
    cursor = first.output.cursor
    for _ in range(TOTAL_KEYS):  # bounded: every page holds at least one key
        if cursor == "0":
            break
        page = real_addon.list_keys("item:*", limit=100, cursor=cursor)
        assert page.code == 200
        seen.extend(page.output.keys)
        cursor = page.output.cursor
    assert cursor == "0"
    assert len(seen) == TOTAL_KEYS  # no key twice ...
    assert set(seen) == {f"item:{i}" for i in range(TOTAL_KEYS)}  # ... and none missed
    assert "keys" not in calls(server)


def test_sparse_pattern_scans_in_large_batches(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    raw = server.client()
    raw.mset({f"noise:{i}": 1 for i in range(20_000)} | {f"rare:{i}": 1 for i in range(5)})
    reset(server)
    listed = real_addon.list_keys("rare:*", limit=100)
    assert (listed.output.count, listed.output.truncated) == (5, False)
    assert calls(server)["scan"] < 60  # ~20 calls of 1000 keys, not 2000 calls of 10


def test_read_only_sends_nothing_for_a_write(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, read_only=True
    )
    raw = server.client()  # one connection for the checks: its own commands are known
    raw.config_resetstat()
    assert addon.set_key("k", "v").code == 403
    assert addon.delete_matching("*", allow_all=True).code == 403
    assert set(raw.info("commandstats")) == {"cmdstat_config|resetstat"}  # nothing from the addon
    assert addon.get_key("k").code == 200
    assert raw.info("commandstats")["cmdstat_get"]["calls"] == 1
