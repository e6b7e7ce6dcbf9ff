"""Hashes: hash_set, hash_get, hash_delete. Cases take ``prefixed`` / ``limited`` (key_prefix
PREFIX, both backends, tests/backends.py)."""

from __future__ import annotations

from action_support import LIMIT, PREFIX, failed, ok
from redis_rooms_pkg.addon import RedisRoomsAddon


def test_hash_set_get_delete(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    out = ok(prefixed.hash_set("user:1", {"name": "Ada", "age": 36, "tags": ["x"]}, ex=120))
    assert out.added == 3
    assert 0 < raw.ttl(PREFIX + "user:1") <= 120
    assert ok(prefixed.hash_set("user:1", {"age": 37, "city": "London"})).added == 1
    everything = ok(prefixed.hash_get("user:1"))
    assert everything.found
    assert everything.values == {"name": "Ada", "age": "37", "tags": '["x"]', "city": "London"}
    some = ok(prefixed.hash_get("user:1", fields=["name", "missing"]))
    assert (some.values, some.found) == ({"name": "Ada", "missing": None}, True)
    assert ok(prefixed.hash_get("user:1", fields="city")).values == {"city": "London"}
    assert ok(prefixed.hash_delete("user:1", ["age", "nope"])).deleted_count == 1
    assert ok(prefixed.hash_delete("user:1", "city")).deleted_count == 1
    assert raw.hgetall(PREFIX + "user:1") == {"name": "Ada", "tags": '["x"]'}


def test_hash_get_missing_is_found_false(prefixed: RedisRoomsAddon) -> None:
    assert ok(prefixed.hash_get("ghost")).model_dump(exclude={"message"}) == {
        "key": "ghost",
        "values": {},
        "found": False,
    }
    named = ok(prefixed.hash_get("ghost", fields=["a"]))
    assert (named.values, named.found) == ({"a": None}, False)
    assert ok(prefixed.hash_delete("ghost", ["a"])).deleted_count == 0


def test_hash_bad_input_and_wrong_type(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    for bad in ({"fields": {}}, {"fields": {"": 1}}, {"fields": {"a": None}}, {"ex": -1}):
        failed(prefixed.hash_set(**{"key": "h", "fields": {"a": 1}, **bad}), 400)
    failed(prefixed.hash_get("h", fields=[]), 400)
    failed(prefixed.hash_delete("h", []), 400)
    assert raw.exists(PREFIX + "h") == 0
    raw.set(PREFIX + "s", "x")
    failed(prefixed.hash_set("s", {"a": 1}), 409)
    failed(prefixed.hash_get("s"), 409)
    failed(prefixed.hash_get("s", fields=["a"]), 409)


def test_hash_set_refuses_a_value_over_the_limit(limited: RedisRoomsAddon) -> None:
    failed(limited.hash_set("h", {"a": "ok", "b": {"long": "y" * LIMIT}}), 413)
    assert limited.client().exists(PREFIX + "h") == 0
