"""String keys: set_key, get_key, delete_key, exists_key, expire_key, get_ttl, get_many, set_many,
key_type. Cases take ``addon``/``make`` (both backends, tests/backends.py); the
server-only ones check what a real redis-server ran."""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

import pytest

from action_support import MakeAddon, calls, key_count, raw_get, read_many, reset, seed
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

# --- set_key and get_key ----------------------------------------------------------------------


def test_set_then_get_round_trip(addon: RedisRoomsAddon) -> None:
    stored = addon.set_key("session:42", "tok")
    assert stored.code == 200
    assert stored.output.model_dump() == {
        "key": "session:42",
        "success": True,
        "written": True,
        "previous": None,
        "message": "stored 'session:42'",
    }
    got = addon.get_key("session:42")
    assert got.code == 200
    assert (got.output.key, got.output.value, got.output.found) == ("session:42", "tok", True)
    assert got.tokens.stepAmount == 0
    assert got.tokens.totalCurrentAmount == 0


def test_missing_key_is_found_false_with_200(addon: RedisRoomsAddon) -> None:
    got = addon.get_key("nope")
    assert got.code == 200
    assert (got.output.found, got.output.value) == (False, None)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param("plain", "plain", id="string"),
        pytest.param(42, "42", id="int"),
        pytest.param(2.5, "2.5", id="float"),
        pytest.param(True, "true", id="bool"),
        pytest.param({"city": "Paris", "temp": 18}, '{"city":"Paris","temp":18}', id="object"),
        pytest.param([1, "a"], '[1,"a"]', id="array"),
        pytest.param({"t": "é"}, '{"t":"é"}', id="unicode-object"),
    ],
)
def test_non_string_values_are_stored_as_json_text(
    addon: RedisRoomsAddon, value: object, stored: str
) -> None:
    assert addon.set_key("k", value).code == 200
    assert addon.client().get("k") == stored


def test_ex_as_template_string_sets_ttl(addon: RedisRoomsAddon) -> None:
    response = addon.set_key("k", "v", ex="3600")
    assert response.code == 200
    assert "expires in 3600s" in response.message
    assert 3590 < addon.client().ttl("k") <= 3600


def test_numeric_key_from_a_template_is_accepted(addon: RedisRoomsAddon) -> None:
    assert addon.set_key(42, "v").output.key == "42"
    assert addon.client().get("42") == "v"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        pytest.param({"key": "", "value": "v"}, "key: String should have at least 1", id="empty"),
        pytest.param({"key": "k", "value": "v", "ex": 0}, "ex: Input should be greater", id="ex0"),
        pytest.param({"key": "k", "value": "v", "ex": -5}, "ex: Input should be greater", id="neg"),
        pytest.param(
            {"key": "k", "value": "v", "ex": "soon"}, "ex: Input should be a valid", id="t"
        ),
        pytest.param({"key": "k", "value": "v", "ex": 1.5}, "ex: Input should be a valid", id="fr"),
        pytest.param({"key": "k", "value": "v", "ex": True}, "not a boolean", id="bool-ex"),
        pytest.param({"key": "k", "value": None}, "value: Value error, is required", id="null"),
        pytest.param({"key": True, "value": "v"}, "key: Value error, must be a string", id="bk"),
        pytest.param({"key": "k", "value": {1, 2}}, "cannot be stored as JSON", id="set-value"),
    ],
)
def test_bad_input_is_400_and_nothing_is_written(
    addon: RedisRoomsAddon, params: dict, says: str
) -> None:
    response = addon.set_key(**params)
    assert response.code == 400
    assert says in response.message
    assert response.output.success is False
    assert addon.client().dbsize() == 0


def test_bad_input_message_never_echoes_the_value(addon: RedisRoomsAddon) -> None:
    response = addon.set_key("", "top-secret-value")
    assert response.code == 400
    assert "top-secret-value" not in response.message


def test_wrong_type_is_409(addon: RedisRoomsAddon) -> None:
    addon.client().rpush("queue", "a")
    response = addon.get_key("queue")
    assert response.code == 409
    assert "holds a Redis list" in response.message
    assert "read it with list_range" in response.message
    addon.client().hset("h", "f", "v")  # a hash too (was the real-server-only case)
    assert addon.get_key("h").code == 409


def test_non_utf8_value_is_422_not_an_exception(addon: RedisRoomsAddon) -> None:
    addon.set_key("blob", b"\xff\xfe\x00binary")
    response = addon.get_key("blob")
    assert response.code == 422
    assert "not UTF-8" in response.message
    assert response.output.found is None


def test_non_utf8_value_is_422_and_the_connection_stays_usable(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    server.client(decode_responses=False).set("blob", b"\xff\xfe\x00\x81")
    response = real_addon.get_key("blob")
    assert response.code == 422
    assert "not UTF-8" in response.message
    assert real_addon.set_key("next", "ok").code == 200
    assert real_addon.get_key("next").output.value == "ok"


def test_decode_responses_off_still_returns_text(make: MakeAddon) -> None:
    addon = make(decode_responses=False)
    assert addon.set_key("k", "välue").code == 200
    assert addon.get_key("k").output.value == "välue"
    assert addon.list_keys().output.keys == ["k"]


def test_round_trip_with_password_and_ttl(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    assert real_addon.set_key("session:1", {"user": "ada"}, ex="120").code == 200
    got = real_addon.get_key("session:1")
    assert (got.code, got.output.found, got.output.value) == (200, True, '{"user":"ada"}')
    assert 110 < server.client().ttl("session:1") <= 120
    assert real_addon.delete_key("session:1").output.deleted is True
    assert server.client().exists("session:1") == 0


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


def test_set_options_are_one_set_command(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    reset(server)
    response = real_addon.set_key("k", "v", px=5000, nx=True, get_previous=True)
    assert (response.code, response.output.written) == (200, True)
    ran = calls(server)
    assert ran.get("set") == 1
    assert not {"expire", "pexpire", "get", "setnx", "multi"} & set(ran)


# --- encodings --------------------------------------------------------------------------------


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


def test_get_with_ttl(addon: RedisRoomsAddon) -> None:
    addon.client().set("forever", "v")
    addon.client().set("soon", "v", ex=300)
    assert addon.get_key("forever", with_ttl=True).output.ttl == -1
    assert 290 < addon.get_key("soon", with_ttl=True).output.ttl <= 300
    assert addon.get_key("soon").output.ttl is None  # only when asked
    missing = addon.get_key("missing", with_ttl=True)
    assert (missing.code, missing.output.found, missing.output.ttl) == (200, False, None)


# --- delete_key -------------------------------------------------------------------------------


def test_delete_reports_whether_the_key_existed(addon: RedisRoomsAddon) -> None:
    addon.set_key("k", "v")
    first, second = addon.delete_key("k"), addon.delete_key("k")
    assert (first.code, first.output.deleted) == (200, True)
    assert (second.code, second.output.deleted) == (200, False)
    assert second.output.key == "k"
    assert addon.get_key("k").output.found is False


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


# --- exists_key, get_ttl, expire_key ----------------------------------------------------------


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


# --- get_many, set_many -----------------------------------------------------------------------


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


# --- key_type ---------------------------------------------------------------------------------


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
