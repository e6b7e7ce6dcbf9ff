"""The keyspace actions: list_keys (SCAN pages) and delete_matching. Cases take ``addon``/``make``
(both backends, tests/backends.py); the server-only ones check the commands sent."""

from __future__ import annotations

import time
from typing import Any

import pytest

from action_support import calls, key_count, reset, seed
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

TOTAL_KEYS = 200_000
FILL_CHUNK = 10_000  # keys per MSET while filling the server


# --- list_keys --------------------------------------------------------------------------------


def test_list_keys_matches_pattern_sorted(addon: RedisRoomsAddon) -> None:
    for key in ["session:2", "session:1", "api:1"]:
        addon.set_key(key, "v")
    sessions = addon.list_keys("session:*")
    assert sessions.output.keys == ["session:1", "session:2"]
    assert sessions.output.count == 2
    everything = addon.list_keys()
    assert everything.output.keys == ["api:1", "session:1", "session:2"]
    assert everything.output.count == 3


def test_list_keys_empty_pattern_is_400(addon: RedisRoomsAddon) -> None:
    response = addon.list_keys("")
    assert response.code == 400
    assert response.output.keys is None  # a failed step lists nothing, not "no keys"


def page_through(addon: RedisRoomsAddon, **params: Any) -> list[list[str]]:
    """Every page of a listing, following cursors until "0" (bounded)."""
    pages, cursor = [], "0"
    for _ in range(100_000):
        response = addon.list_keys(cursor=cursor, **params)
        assert response.code == 200, response.message
        out = response.output
        assert out.count == len(out.keys)
        assert out.truncated == (out.cursor != "0")
        pages.append(out.keys)
        cursor = out.cursor
        if cursor == "0":
            return pages
    raise AssertionError("listing did not finish")


def test_list_pages_through_every_key_once(addon: RedisRoomsAddon) -> None:
    seed(addon, {f"item:{i}": i for i in range(1500)} | {"other": 1})
    pages = page_through(addon, pattern="item:*", limit=100)
    listed = [key for page in pages for key in page]
    assert sorted(listed) == sorted(f"item:{i}" for i in range(1500))  # each exactly once
    assert len(pages) >= 5
    assert all(len(page) <= 100 + 1000 for page in pages)  # at most one SCAN batch over


def test_list_default_limit_is_1000_and_says_truncated(addon: RedisRoomsAddon) -> None:
    seed(addon, {f"item:{i}": i for i in range(2500)})
    first = addon.list_keys("item:*")
    assert first.output.truncated is True
    assert 1000 <= first.output.count < 2500
    assert "call again with cursor" in first.message
    everything = addon.list_keys("item:*", limit=100_000)
    assert (everything.output.count, everything.output.truncated, everything.output.cursor) == (
        2500,
        False,
        "0",
    )


def test_list_with_values(addon: RedisRoomsAddon) -> None:
    seed(addon, {"u:1": "ada", "u:2": '{"n":2}'})
    addon.client().hset("u:3", "f", "v")  # not a string key: its value is null
    listed = addon.list_keys("u:*", with_values=True)
    assert listed.output.values == {"u:1": "ada", "u:2": '{"n":2}', "u:3": None}
    assert addon.list_keys("u:*").output.values is None
    addon.client().set("u:4", b"\xff")
    assert addon.list_keys("u:*", with_values=True).code == 422
    binary = addon.list_keys("u:4", with_values=True, encoding="base64")
    assert binary.output.values == {"u:4": "/w=="}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": 0}, id="limit-zero"),
        pytest.param({"limit": 100_001}, id="limit-over-max"),
        pytest.param({"cursor": "abc"}, id="cursor-not-a-number"),
        pytest.param({"cursor": "-1"}, id="cursor-negative"),
    ],
)
def test_list_bad_paging_is_400(addon: RedisRoomsAddon, params: dict[str, Any]) -> None:
    response = addon.list_keys(**params)
    assert response.code == 400
    assert next(iter(params)) in response.message


def test_list_accepts_a_numeric_cursor(addon: RedisRoomsAddon) -> None:
    addon.client().set("a", 1)
    assert addon.list_keys(cursor=0).output.keys == ["a"]


def test_list_keys_uses_scan_never_keys(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    raw = server.client()
    with raw.pipeline(transaction=False) as pipe:
        for i in range(2500):
            pipe.set(f"item:{i}", i)
        pipe.set("other", 1)
        pipe.execute()
    raw.config_resetstat()
    listed = real_addon.list_keys("item:*", limit=10_000)  # the default page is 1000 keys
    assert listed.code == 200
    assert listed.output.count == 2500
    assert set(listed.output.keys) == {f"item:{i}" for i in range(2500)}
    stats = raw.info("commandstats")
    assert "cmdstat_keys" not in stats
    assert stats["cmdstat_scan"]["calls"] >= 3


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


# --- delete_matching --------------------------------------------------------------------------


def test_delete_matching(addon: RedisRoomsAddon) -> None:
    seed(addon, {f"tmp:{i}": i for i in range(2500)} | {"keep": 1})
    response = addon.delete_matching("tmp:*")
    assert response.code == 200
    assert (response.output.deleted_count, response.output.truncated) == (2500, False)
    assert set(addon.client().scan_iter("*")) == {"keep"}  # SCAN may repeat a key


def test_delete_matching_stops_at_limit(addon: RedisRoomsAddon) -> None:
    seed(addon, {f"tmp:{i}": i for i in range(2500)})
    first = addon.delete_matching("tmp:*", limit=1000)
    assert (first.output.deleted_count, first.output.truncated) == (1000, True)
    assert key_count(addon) == 1500
    rest = addon.delete_matching("tmp:*", limit=1500)
    assert rest.output.deleted_count == 1500
    assert key_count(addon) == 0


@pytest.mark.parametrize("pattern", ["*", "**"])
def test_delete_everything_needs_allow_all(addon: RedisRoomsAddon, pattern: str) -> None:
    seed(addon, {"a": 1, "b": 2})
    refused = addon.delete_matching(pattern)
    assert refused.code == 400
    assert "allow_all" in refused.message
    assert key_count(addon) == 2
    allowed = addon.delete_matching(pattern, allow_all=True)
    assert (allowed.code, allowed.output.deleted_count) == (200, 2)


def test_delete_matching_pattern_is_required(addon: RedisRoomsAddon) -> None:
    assert addon.delete_matching("").code == 400


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
