"""Key-action cases run on both backends: imported by a unit module (fakeredis) and an integration
module (real redis-server), each of which provides the ``addon`` and ``make`` fixtures."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from redis.client import NEVER_DECODE

from catalogue_calls import READ_CALLS, WRITE_CALLS
from redis_rooms_pkg.actions.base import is_cluster
from redis_rooms_pkg.addon import RedisRoomsAddon

MakeAddon = Callable[..., RedisRoomsAddon]
RAW = {NEVER_DECODE: []}


def seed(addon: RedisRoomsAddon, mapping: dict[str, Any]) -> None:
    """Write keys past the addon (no prefix); on a cluster, one MSET per hash slot."""
    client = addon.client()
    (client.mset_nonatomic if is_cluster(client) else client.mset)(mapping)


def read_many(addon: RedisRoomsAddon, *keys: str) -> list[Any]:
    """Read keys past the addon (no prefix), wherever they live."""
    client = addon.client()
    return (client.mget_nonatomic if is_cluster(client) else client.mget)(keys)


def key_count(addon: RedisRoomsAddon) -> int:
    """How many keys the whole deployment holds (every primary of a cluster), by SCAN."""
    return sum(1 for _ in addon.client().scan_iter(count=1000))


def raw_get(addon: RedisRoomsAddon, key: str) -> bytes | None:
    """The stored bytes of a key, read past the addon (no prefix, no decoding)."""
    return addon.client().execute_command("GET", key, **RAW)


# --- set_key ---------------------------------------------------------------------------------


def test_set_px_sets_a_millisecond_ttl_in_one_command(addon: RedisRoomsAddon) -> None:
    response = addon.set_key("k", "v", px="90000")
    assert (response.code, response.output.written, response.output.success) == (200, True, True)
    assert 80_000 < addon.client().pttl("k") <= 90_000
    assert "expires in 90000ms" in response.message


def test_nx_writes_only_an_absent_key(addon: RedisRoomsAddon) -> None:
    first = addon.set_key("lock", "a", nx=True)
    second = addon.set_key("lock", "b", nx=True)
    assert (first.code, first.output.written, first.output.success) == (200, True, True)
    assert (second.code, second.output.written, second.output.success) == (200, False, True)
    assert "already exists" in second.message
    assert addon.client().get("lock") == "a"


def test_xx_writes_only_an_existing_key(addon: RedisRoomsAddon) -> None:
    absent = addon.set_key("k", "a", xx=True)
    assert (absent.code, absent.output.written) == (200, False)
    assert addon.client().exists("k") == 0
    addon.client().set("k", "old")
    present = addon.set_key("k", "new", xx=True)
    assert present.output.written is True
    assert addon.client().get("k") == "new"


def test_keep_ttl_keeps_the_expiry(addon: RedisRoomsAddon) -> None:
    addon.client().set("k", "old", ex=500)
    assert addon.set_key("k", "new", keep_ttl=True).output.written is True
    assert 490 < addon.client().ttl("k") <= 500
    assert addon.set_key("k", "newer").code == 200
    assert addon.client().ttl("k") == -1  # a plain SET drops the TTL: keep_ttl made the difference


@pytest.mark.parametrize(
    ("options", "existing", "written", "previous", "stored"),
    [
        pytest.param({}, None, True, None, "new", id="absent"),
        pytest.param({}, "old", True, "old", "new", id="present"),
        pytest.param({"nx": True}, "old", False, "old", "old", id="nx-present"),
        pytest.param({"nx": True}, None, True, None, "new", id="nx-absent"),
        pytest.param({"xx": True}, None, False, None, None, id="xx-absent"),
        pytest.param({"xx": True}, "old", True, "old", "new", id="xx-present"),
    ],
)
def test_get_previous_returns_the_old_value(
    addon: RedisRoomsAddon,
    options: dict[str, Any],
    existing: str | None,
    written: bool,
    previous: str | None,
    stored: str | None,
) -> None:
    if existing is not None:
        addon.client().set("k", existing)
    response = addon.set_key("k", "new", get_previous=True, **options)
    assert response.code == 200
    assert (response.output.written, response.output.previous) == (written, previous)
    assert addon.client().get("k") == stored


def test_get_previous_of_binary_value_with_base64(addon: RedisRoomsAddon) -> None:
    addon.client().set("k", b"\xff\x00")
    response = addon.set_key("k", "AQ==", encoding="base64", get_previous=True)
    assert response.output.previous == base64.b64encode(b"\xff\x00").decode()
    text = addon.set_key("k", "x", get_previous=True)
    assert (text.code, text.output.written, text.output.previous) == (200, True, "\x01")
    addon.client().set("k", b"\xff")
    binary = addon.set_key("k", "y", get_previous=True)  # written: the old value cannot be text
    assert (binary.code, binary.output.written, binary.output.previous) == (200, True, None)
    assert 'use encoding "base64"' in binary.message


@pytest.mark.parametrize(
    ("options", "names"),
    [
        pytest.param({"ex": 10, "px": 1000}, "ex and px", id="ex-px"),
        pytest.param({"nx": True, "xx": True}, "nx and xx", id="nx-xx"),
        pytest.param({"keep_ttl": True, "ex": 10}, "keep_ttl and ex", id="keep_ttl-ex"),
        pytest.param({"keep_ttl": True, "px": 10}, "keep_ttl and px", id="keep_ttl-px"),
        pytest.param({"px": 0}, "px", id="px-zero"),
        pytest.param({"encoding": "utf16"}, "encoding", id="unknown-encoding"),
    ],
)
def test_conflicting_set_options_are_400_and_write_nothing(
    addon: RedisRoomsAddon, options: dict[str, Any], names: str
) -> None:
    response = addon.set_key("k", "v", **options)
    assert response.code == 400
    assert names in response.message
    assert addon.client().exists("k") == 0


def test_nx_race_exactly_one_writer(make: MakeAddon) -> None:
    addons = [make() for _ in range(4)]  # several pools, as several workers would have
    if addons[0].config.mode == "embedded":  # one in-process server per addon: share one
        addons = [addons[0]] * 4
    barrier = threading.Barrier(20)
    results: list[Any] = [None] * 20

    def claim(i: int) -> None:
        barrier.wait(timeout=10)
        results[i] = addons[i % len(addons)].set_key("job:1:owner", f"worker-{i}", nx=True, ex=60)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None and r.code == 200 for r in results)
    winners = [i for i, r in enumerate(results) if r.output.written]
    assert len(winners) == 1
    owner = addons[0].client().get("job:1:owner")
    assert owner == f"worker-{winners[0]}"
    assert 0 < addons[0].client().ttl("job:1:owner") <= 60


# --- encodings -------------------------------------------------------------------------------


def test_random_bytes_round_trip_through_base64(addon: RedisRoomsAddon) -> None:
    payload = os.urandom(4096) + b"\xff\xfe\x00"  # never valid UTF-8
    encoded = base64.b64encode(payload).decode()
    assert addon.set_key("blob", encoded, encoding="base64").code == 200
    assert raw_get(addon, "blob") == payload
    got = addon.get_key("blob", encoding="base64")
    assert (got.code, got.output.found) == (200, True)
    assert base64.b64decode(got.output.value) == payload
    as_text = addon.get_key("blob")
    assert as_text.code == 422
    assert 'encoding "base64"' in as_text.message


def test_base64_is_binary_safe_with_decode_responses_off(make: MakeAddon) -> None:
    addon = make(decode_responses=False)
    payload = bytes(range(256))
    assert addon.set_key("blob", base64.b64encode(payload).decode(), encoding="base64").code == 200
    got = addon.get_key("blob", encoding="base64")
    assert base64.b64decode(got.output.value) == payload
    assert addon.get_key("blob").code == 422


@pytest.mark.parametrize(
    "value", [pytest.param("not base64!", id="bad-chars"), pytest.param(12, id="number")]
)
def test_invalid_base64_input_is_400(addon: RedisRoomsAddon, value: Any) -> None:
    response = addon.set_key("k", value, encoding="base64")
    assert response.code == 400
    assert "base64" in response.message
    assert addon.client().exists("k") == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("plain text", id="string"),
        pytest.param({"a": [1, 2, {"b": None}]}, id="object"),
        pytest.param([1, "é"], id="array"),
        pytest.param(3.5, id="number"),
        pytest.param(False, id="bool"),
    ],
)
def test_json_encoding_round_trips_any_json_value(addon: RedisRoomsAddon, value: Any) -> None:
    assert addon.set_key("doc", value, encoding="json").code == 200
    assert json.loads(addon.client().get("doc")) == value
    got = addon.get_key("doc", encoding="json")
    assert (got.code, got.output.found, got.output.data) == (200, True, value)
    assert json.loads(got.output.value) == value


def test_invalid_json_is_422(addon: RedisRoomsAddon) -> None:
    addon.client().set("doc", "{not json")
    got = addon.get_key("doc", encoding="json")
    assert got.code == 422
    assert "not valid JSON" in got.message
    assert addon.get_key("doc").output.value == "{not json"


# --- get_key TTL -----------------------------------------------------------------------------


def test_get_with_ttl(addon: RedisRoomsAddon) -> None:
    addon.client().set("forever", "v")
    addon.client().set("soon", "v", ex=300)
    assert addon.get_key("forever", with_ttl=True).output.ttl == -1
    assert 290 < addon.get_key("soon", with_ttl=True).output.ttl <= 300
    assert addon.get_key("soon").output.ttl is None  # only when asked
    missing = addon.get_key("missing", with_ttl=True)
    assert (missing.code, missing.output.found, missing.output.ttl) == (200, False, None)


# --- delete_key ------------------------------------------------------------------------------


def test_delete_several_keys(addon: RedisRoomsAddon) -> None:
    seed(addon, {"a": 1, "b": 2, "c": 3})
    response = addon.delete_key(keys=["a", "b", "missing", "a"])
    assert response.code == 200
    assert (response.output.deleted, response.output.deleted_count) == (True, 2)
    assert addon.client().exists("a", "b", "c") == 1
    none = addon.delete_key(keys=["a"])
    assert (none.output.deleted, none.output.deleted_count) == (False, 0)


def test_delete_one_key_counts_it(addon: RedisRoomsAddon) -> None:
    addon.client().set("a", 1)
    assert addon.delete_key("a").output.deleted_count == 1
    assert addon.delete_key("a").output.deleted_count == 0


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="neither"),
        pytest.param({"key": "a", "keys": ["b"]}, id="both"),
        pytest.param({"keys": []}, id="empty-list"),
        pytest.param({"keys": ["ok", ""]}, id="empty-name"),
    ],
)
def test_delete_needs_exactly_one_of_key_or_keys(
    addon: RedisRoomsAddon, params: dict[str, Any]
) -> None:
    seed(addon, {"a": 1, "b": 2, "ok": 3})
    assert addon.delete_key(**params).code == 400
    assert addon.client().exists("a", "b", "ok") == 3


# --- list_keys -------------------------------------------------------------------------------


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


# --- exists_key, get_ttl, expire_key ---------------------------------------------------------


def test_exists_key(addon: RedisRoomsAddon) -> None:
    seed(addon, {"a": 1, "b": 2})
    response = addon.exists_key(["a", "b", "c"])
    assert response.code == 200
    assert response.output.exists == {"a": True, "b": True, "c": False}
    assert response.output.count == 2
    single = addon.exists_key("a")  # one key from a template
    assert (single.output.exists, single.output.count) == ({"a": True}, 1)
    assert addon.exists_key([]).code == 400


def test_get_ttl(addon: RedisRoomsAddon) -> None:
    addon.client().set("forever", 1)
    addon.client().set("soon", 1, ex=100)
    assert addon.get_ttl("forever").output.model_dump(exclude={"message"}) == {
        "key": "forever",
        "found": True,
        "ttl": -1,
    }
    assert 90 < addon.get_ttl("soon").output.ttl <= 100
    missing = addon.get_ttl("missing")
    assert (missing.code, missing.output.found, missing.output.ttl) == (200, False, None)


def test_expire_key_ex_px_and_persist(addon: RedisRoomsAddon) -> None:
    addon.client().set("k", 1)
    ex = addon.expire_key("k", ex="120")
    assert (ex.code, ex.output.updated) == (200, True)
    assert 110 < ex.output.ttl <= 120
    px = addon.expire_key("k", px=50_000)
    assert px.output.updated is True
    assert 40 < px.output.ttl <= 50
    persist = addon.expire_key("k", persist=True)
    assert (persist.output.updated, persist.output.ttl) == (True, -1)
    again = addon.expire_key("k", persist=True)
    assert (again.code, again.output.updated, again.output.ttl) == (200, False, -1)
    assert addon.client().ttl("k") == -1


def test_expire_missing_key(addon: RedisRoomsAddon) -> None:
    response = addon.expire_key("missing", ex=10)
    assert (response.code, response.output.updated, response.output.ttl) == (200, False, None)
    assert addon.client().exists("missing") == 0


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="none"),
        pytest.param({"ex": 1, "px": 1000}, id="ex-px"),
        pytest.param({"ex": 1, "persist": True}, id="ex-persist"),
        pytest.param({"ex": 0}, id="ex-zero"),
    ],
)
def test_expire_needs_exactly_one_change(addon: RedisRoomsAddon, params: dict[str, Any]) -> None:
    addon.client().set("k", 1, ex=1000)
    assert addon.expire_key("k", **params).code == 400
    assert 990 < addon.client().ttl("k") <= 1000


# --- get_many / set_many ---------------------------------------------------------------------


def test_get_many(addon: RedisRoomsAddon) -> None:
    seed(addon, {"a": "1", "b": '{"x":1}'})
    response = addon.get_many(["a", "b", "c"])
    assert response.code == 200
    assert response.output.values == {"a": "1", "b": '{"x":1}', "c": None}
    assert (response.output.found_count, response.output.data) == (2, None)
    parsed = addon.get_many(["a", "b", "c"], encoding="json")
    assert parsed.output.data == {"a": 1, "b": {"x": 1}, "c": None}
    addon.client().set("bin", b"\x00\xff")
    binary = addon.get_many(["bin"], encoding="base64")
    assert binary.output.values == {"bin": "AP8="}
    assert addon.get_many(["bin"]).code == 422


def test_set_many(addon: RedisRoomsAddon) -> None:
    response = addon.set_many({"a": "x", "b": {"n": 1}, "c": 3})
    assert response.code == 200
    assert response.output.model_dump(exclude={"message"}) == {
        "count": 3,
        "success": True,
        "skipped": [],
    }
    assert read_many(addon, "a", "b", "c") == ["x", '{"n":1}', "3"]
    assert addon.client().ttl("a") == -1


def test_set_many_with_ex_sets_every_ttl(addon: RedisRoomsAddon) -> None:
    assert addon.set_many({"a": 1, "b": 2}, ex=300).output.count == 2
    for key in ("a", "b"):
        assert 290 < addon.client().ttl(key) <= 300


def test_set_many_nx_leaves_existing_keys_alone(addon: RedisRoomsAddon) -> None:
    addon.client().set("a", "old", ex=1000)
    response = addon.set_many({"a": "new", "b": "new"}, nx=True, ex=60)
    assert response.code == 200
    assert (response.output.count, response.output.skipped) == (1, ["a"])
    assert addon.client().get("a") == "old"
    assert 990 < addon.client().ttl("a") <= 1000  # the existing key's TTL is untouched
    assert addon.client().get("b") == "new"
    assert 50 < addon.client().ttl("b") <= 60


def test_set_many_base64(addon: RedisRoomsAddon) -> None:
    assert addon.set_many({"bin": "AP8="}, encoding="base64").code == 200
    assert raw_get(addon, "bin") == b"\x00\xff"


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"items": {}}, id="empty"),
        pytest.param({"items": {"": 1}}, id="empty-key"),
        pytest.param({"items": {"a": 1, "b": None}}, id="null-value"),
        pytest.param({"items": {"a": 1}, "ex": 0}, id="ex-zero"),
        pytest.param({"items": {"a": "AP8=", "b": "%%"}, "encoding": "base64"}, id="bad-base64"),
    ],
)
def test_set_many_bad_input_writes_nothing(addon: RedisRoomsAddon, params: dict[str, Any]) -> None:
    assert addon.set_many(**params).code == 400
    assert key_count(addon) == 0


# --- delete_matching -------------------------------------------------------------------------


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


# --- key_prefix applies to every action ------------------------------------------------------


def test_key_prefix_confines_every_action(make: MakeAddon) -> None:
    addon = make(key_prefix="wf1:")
    raw = addon.client()
    seed(addon, {"outside": 1, "wf2:x": 1})
    assert addon.set_many({"a": 1, "b": 2}).code == 200
    assert addon.set_key("c", "3", nx=True).output.written is True
    assert sorted(raw.scan_iter("wf1:*")) == ["wf1:a", "wf1:b", "wf1:c"]
    assert addon.get_many(["a", "outside"]).output.values == {"a": "1", "outside": None}
    assert addon.exists_key(["a", "outside"]).output.exists == {"a": True, "outside": False}
    assert addon.expire_key("a", ex=100).output.updated is True
    assert 90 < raw.ttl("wf1:a") <= 100
    assert addon.get_ttl("a").output.found is True
    assert addon.list_keys(with_values=True).output.values == {"a": "1", "b": "2", "c": "3"}
    assert addon.delete_key(keys=["a", "outside"]).output.deleted_count == 1
    assert addon.delete_matching("*", allow_all=True).output.deleted_count == 2
    assert sorted(raw.scan_iter("*")) == ["outside", "wf2:x"]


# --- guardrails ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WRITE_CALLS))
def test_read_only_refuses_every_write(make: MakeAddon, name: str) -> None:
    addon = make(read_only=True)
    addon.client().set("keep", "v")
    response = getattr(addon, name)(**WRITE_CALLS[name])
    assert response.code == 403
    assert "addon is read-only" in response.message
    assert key_count(addon) == 1
    assert addon.client().get("keep") == "v"
    assert addon.client().ttl("keep") == -1


@pytest.mark.parametrize("name", sorted(READ_CALLS))
def test_read_only_still_reads(make: MakeAddon, name: str) -> None:
    addon = make(read_only=True)
    addon.client().set("keep", "v")
    assert getattr(addon, name)(**READ_CALLS[name]).code == 200


def test_max_value_bytes_refuses_large_values(make: MakeAddon) -> None:
    addon = make(max_value_bytes=10)
    assert addon.set_key("k", "x" * 10).code == 200
    too_big = addon.set_key("k", "é" * 6)  # 12 bytes in UTF-8
    assert too_big.code == 413
    assert "max_value_bytes" in too_big.message
    assert addon.client().get("k") == "x" * 10
    assert addon.set_key("b", base64.b64encode(b"\x00" * 11).decode(), encoding="base64").code == (
        413
    )
    batch = addon.set_many({"a": "small", "b": "y" * 11})
    assert batch.code == 413
    assert addon.client().exists("a", "b") == 0


def test_default_max_value_bytes_is_one_mebibyte(addon: RedisRoomsAddon) -> None:
    assert addon.set_key("k", "x" * (1024 * 1024)).code == 200
    assert addon.set_key("k", "x" * (1024 * 1024 + 1)).code == 413


# --- key_type --------------------------------------------------------------------------------


def test_key_type_names_the_type_and_its_reader(addon: RedisRoomsAddon) -> None:
    seed(addon, {"s": "v"})
    addon.client().rpush("l", "a")
    addon.client().hset("h", "f", "v")
    answers = {key: addon.key_type(key).output for key in ("s", "l", "h", "missing")}
    assert {key: (out.found, out.type) for key, out in answers.items()} == {
        "s": (True, "string"),
        "l": (True, "list"),
        "h": (True, "hash"),
        "missing": (False, None),
    }
    assert (answers["s"].read_with, answers["h"].read_with) == ("get_key", "hash_get")
    assert addon.key_type("").code == 400
