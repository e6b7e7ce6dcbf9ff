"""Checks of the workflow building-block actions, run on fakeredis and on real servers alike.

Each check takes an addon whose key_prefix is ``PREFIX`` and asserts both the action's output
and what Redis holds afterwards (read with the addon's own client, under the prefix).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from redis.client import NEVER_DECODE

from redis_rooms_pkg.addon import RedisRoomsAddon

PREFIX = "wf:"
RAW = {NEVER_DECODE: []}  # execute_command option: the reply as bytes

Check = Callable[[RedisRoomsAddon], None]
CHECKS: list = []


def check(function: Check) -> Check:
    CHECKS.append(pytest.param(function, id=function.__name__.removeprefix("check_")))
    return function


def ok(response):
    assert response.code == 200, response.message
    return response.output


def failed(response, code: int) -> str:
    assert response.code == code, (response.code, response.message)
    return response.message


# --- increment ------------------------------------------------------------------------------


@check
def check_increment_creates_with_ttl_then_counts(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    first = ok(addon.increment("hits", ex=60))
    assert (first.value, first.created) == (1, True)
    assert 0 < raw.ttl(PREFIX + "hits") <= 60
    raw.expire(PREFIX + "hits", 1000)  # a later call with ex must not reset the expiry
    second = ok(addon.increment("hits", by=5, ex=60))
    assert (second.value, second.created) == (6, False)
    assert raw.ttl(PREFIX + "hits") > 60
    assert ok(addon.increment("hits", by=-10)).value == -4
    assert raw.get(PREFIX + "hits") == "-4"


@check
def check_increment_float_and_template_strings(addon: RedisRoomsAddon) -> None:
    out = ok(addon.increment("cost", by=0.25))
    assert out.value == 0.25
    assert isinstance(out.value, float)
    assert ok(addon.increment("cost", by="1.5")).value == 1.75
    counted = ok(addon.increment("n", by="3", ex="30"))
    assert (counted.value, counted.created) == (3, True)
    assert isinstance(counted.value, int)
    assert addon.client().ttl(PREFIX + "n") > 0


@check
def check_increment_without_ex_never_expires(addon: RedisRoomsAddon) -> None:
    ok(addon.increment("forever"))
    assert addon.client().ttl(PREFIX + "forever") == -1


@check
def check_increment_refuses_non_numbers(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    raw.set(PREFIX + "name", "Ada")
    assert "cannot be incremented" in failed(addon.increment("name"), 409)
    assert raw.get(PREFIX + "name") == "Ada"
    raw.rpush(PREFIX + "list", "x")
    failed(addon.increment("list"), 409)
    for bad in ({"by": True}, {"by": "x"}, {"by": float("nan")}, {"ex": 0}, {"key": ""}):
        params = {"key": "fresh", **bad}
        failed(addon.increment(**params), 400)
    assert raw.exists(PREFIX + "fresh") == 0


# --- rate_limit -----------------------------------------------------------------------------


@check
def check_rate_limit_allows_limit_then_denies(addon: RedisRoomsAddon) -> None:
    seen = [ok(addon.rate_limit("api", limit=3, window_s=60)) for _ in range(5)]
    assert [o.allowed for o in seen] == [True, True, True, False, False]
    assert [o.remaining for o in seen] == [2, 1, 0, 0, 0]
    assert all(0 < o.reset_in <= 60 for o in seen)
    assert addon.client().zcard(PREFIX + "api") == 3  # denied calls are not recorded
    assert 0 < addon.client().pttl(PREFIX + "api") <= 60_000


@check
def check_rate_limit_window_slides(addon: RedisRoomsAddon) -> None:
    assert ok(addon.rate_limit("slide", limit=1, window_s=0.3)).allowed
    denied = ok(addon.rate_limit("slide", limit=1, window_s=0.3))
    assert not denied.allowed
    assert 0 < denied.reset_in <= 0.3
    time.sleep(denied.reset_in + 0.05)
    assert ok(addon.rate_limit("slide", limit=1, window_s=0.3)).allowed


@check
def check_rate_limit_bad_input(addon: RedisRoomsAddon) -> None:
    for bad in ({"limit": 0}, {"window_s": 0}, {"limit": "many"}, {"limit": True}):
        params = {"key": "x", "limit": 2, "window_s": 1, **bad}
        failed(addon.rate_limit(**params), 400)
    assert addon.client().exists(PREFIX + "x") == 0


# --- lists ----------------------------------------------------------------------------------


@check
def check_list_push_orders_encodes_and_expires(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    assert ok(addon.list_push("q", ["a", 2, {"job": 1}])).length == 3
    assert ok(addon.list_push("q", "b", ex=30)).length == 4  # one value as a template gives it
    assert raw.lrange(PREFIX + "q", 0, -1) == ["a", "2", '{"job":1}', "b"]
    assert 0 < raw.ttl(PREFIX + "q") <= 30
    assert ok(addon.list_push("q", ["z", "y"], side="left")).length == 6
    assert raw.lrange(PREFIX + "q", 0, 1) == ["y", "z"]


@check
def check_list_push_max_length_keeps_the_newest(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    ok(addon.list_push("recent", [1, 2, 3]))
    assert ok(addon.list_push("recent", [4, 5], max_length=3)).length == 3
    assert raw.lrange(PREFIX + "recent", 0, -1) == ["3", "4", "5"]
    assert ok(addon.list_push("recent", [6], side="left", max_length=2)).length == 2
    assert raw.lrange(PREFIX + "recent", 0, -1) == ["6", "3"]


@check
def check_list_push_refuses_bad_input_and_wrong_type(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    for bad in ({"values": []}, {"side": "middle"}, {"max_length": 0}, {"values": [None]}):
        params = {"key": "q", "values": ["a"], **bad}
        failed(addon.list_push(**params), 400)
    assert raw.exists(PREFIX + "q") == 0
    raw.set(PREFIX + "s", "text")
    failed(addon.list_push("s", ["a"], ex=5), 409)
    assert raw.ttl(PREFIX + "s") == -1  # the script stopped before the expiry


@check
def check_list_pop_takes_in_order(addon: RedisRoomsAddon) -> None:
    ok(addon.list_push("q", ["a", "b", "c", "d"]))
    assert ok(addon.list_pop("q")).values == ["a"]
    assert ok(addon.list_pop("q", side="right", count=2)).values == ["d", "c"]
    last = ok(addon.list_pop("q", count=10))
    assert (last.values, last.found) == (["b"], True)
    empty = ok(addon.list_pop("q"))
    assert (empty.values, empty.found) == ([], False)
    assert addon.client().exists(PREFIX + "q") == 0


@check
def check_list_pop_waits_then_gives_up(addon: RedisRoomsAddon) -> None:
    started = time.monotonic()
    out = ok(addon.list_pop("idle", wait_s=0.3))
    waited = time.monotonic() - started
    assert (out.values, out.found) == ([], False)
    assert 0.25 <= waited < 5  # waited about wait_s, and did not hang


@check
def check_list_pop_wait_with_ready_values_returns_them(addon: RedisRoomsAddon) -> None:
    ok(addon.list_push("ready", ["a", "b", "c"]))
    out = ok(addon.list_pop("ready", count=2, wait_s=5))
    assert out.values == ["a", "b"]


@check
def check_list_pop_bad_input(addon: RedisRoomsAddon) -> None:
    for bad in ({"count": 0}, {"count": True}, {"wait_s": -1}, {"wait_s": 61}, {"side": "up"}):
        failed(addon.list_pop(**{"key": "q", **bad}), 400)


@check
def check_list_pop_puts_back_values_that_are_not_text(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    raw.rpush(PREFIX + "bin", "a", b"\xff\xfe", "c")
    assert "put back" in failed(addon.list_pop("bin", count=3), 422)
    assert raw.llen(PREFIX + "bin") == 3
    assert raw.execute_command("LINDEX", PREFIX + "bin", 1, **RAW) == b"\xff\xfe"
    assert raw.execute_command("LINDEX", PREFIX + "bin", 0, **RAW) == b"a"
    assert failed(addon.list_pop("bin", side="right", count=2), 422)
    assert [raw.execute_command("LINDEX", PREFIX + "bin", i, **RAW) for i in range(3)] == [
        b"a",
        b"\xff\xfe",
        b"c",
    ]


@check
def check_list_range_and_length(addon: RedisRoomsAddon) -> None:
    ok(addon.list_push("log", ["a", "b", "c", "d"]))
    assert ok(addon.list_range("log")).values == ["a", "b", "c", "d"]
    window = ok(addon.list_range("log", start=1, stop=2))
    assert (window.values, window.count) == (["b", "c"], 2)
    assert ok(addon.list_range("log", start=-2)).values == ["c", "d"]
    assert ok(addon.list_range("none")).values == []
    assert ok(addon.list_length("log")).length == 4
    assert ok(addon.list_length("none")).length == 0
    addon.client().set(PREFIX + "s", "x")
    failed(addon.list_length("s"), 409)


# --- hashes ---------------------------------------------------------------------------------


@check
def check_hash_set_get_delete(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    out = ok(addon.hash_set("user:1", {"name": "Ada", "age": 36, "tags": ["x"]}, ex=120))
    assert out.added == 3
    assert 0 < raw.ttl(PREFIX + "user:1") <= 120
    assert ok(addon.hash_set("user:1", {"age": 37, "city": "London"})).added == 1
    everything = ok(addon.hash_get("user:1"))
    assert everything.found
    assert everything.values == {"name": "Ada", "age": "37", "tags": '["x"]', "city": "London"}
    some = ok(addon.hash_get("user:1", fields=["name", "missing"]))
    assert (some.values, some.found) == ({"name": "Ada", "missing": None}, True)
    assert ok(addon.hash_get("user:1", fields="city")).values == {"city": "London"}
    assert ok(addon.hash_delete("user:1", ["age", "nope"])).deleted_count == 1
    assert ok(addon.hash_delete("user:1", "city")).deleted_count == 1
    assert raw.hgetall(PREFIX + "user:1") == {"name": "Ada", "tags": '["x"]'}


@check
def check_hash_get_missing_is_found_false(addon: RedisRoomsAddon) -> None:
    assert ok(addon.hash_get("ghost")).model_dump(exclude={"message"}) == {
        "key": "ghost",
        "values": {},
        "found": False,
    }
    named = ok(addon.hash_get("ghost", fields=["a"]))
    assert (named.values, named.found) == ({"a": None}, False)
    assert ok(addon.hash_delete("ghost", ["a"])).deleted_count == 0


@check
def check_hash_bad_input_and_wrong_type(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    for bad in ({"fields": {}}, {"fields": {"": 1}}, {"fields": {"a": None}}, {"ex": -1}):
        failed(addon.hash_set(**{"key": "h", "fields": {"a": 1}, **bad}), 400)
    failed(addon.hash_get("h", fields=[]), 400)
    failed(addon.hash_delete("h", []), 400)
    assert raw.exists(PREFIX + "h") == 0
    raw.set(PREFIX + "s", "x")
    failed(addon.hash_set("s", {"a": 1}), 409)
    failed(addon.hash_get("s"), 409)
    failed(addon.hash_get("s", fields=["a"]), 409)


# --- publish --------------------------------------------------------------------------------


@check
def check_publish_reaches_a_subscriber_under_the_prefix(addon: RedisRoomsAddon) -> None:
    pubsub = addon.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PREFIX + "events")
    try:
        out = ok(addon.publish("events", {"order": 7, "status": "paid"}))
        assert (out.channel, out.receivers) == ("events", 1)
        assert ok(addon.publish("elsewhere", "x")).receivers == 0
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
        assert message is not None
        assert json.loads(message["data"]) == {"order": 7, "status": "paid"}
    finally:
        pubsub.close()
    failed(addon.publish("", "x"), 400)
    failed(addon.publish("events", None), 400)


# --- locks ----------------------------------------------------------------------------------


@check
def check_lock_acquire_release_extend(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    held = ok(addon.acquire_lock("lock:job", ttl_ms=10_000))
    assert held.acquired
    assert held.token
    assert raw.get(PREFIX + "lock:job") == held.token
    assert 0 < raw.pttl(PREFIX + "lock:job") <= 10_000
    other = ok(addon.acquire_lock("lock:job", ttl_ms=10_000))
    assert (other.acquired, other.token) == (False, None)
    assert not ok(addon.release_lock("lock:job", "stale-token")).released
    assert not ok(addon.extend_lock("lock:job", "stale-token", ttl_ms=60_000)).extended
    assert raw.pttl(PREFIX + "lock:job") <= 10_000
    assert ok(addon.extend_lock("lock:job", held.token, ttl_ms=60_000)).extended
    assert raw.pttl(PREFIX + "lock:job") > 10_000
    assert ok(addon.release_lock("lock:job", held.token)).released
    assert raw.exists(PREFIX + "lock:job") == 0
    assert not ok(addon.release_lock("lock:job", held.token)).released  # released once only


@check
def check_lock_wait_gets_it_when_it_expires(addon: RedisRoomsAddon) -> None:
    first = ok(addon.acquire_lock("lock:short", ttl_ms=200))
    started = time.monotonic()
    second = ok(addon.acquire_lock("lock:short", ttl_ms=5_000, wait_s=5))
    assert second.acquired
    assert second.token != first.token
    assert time.monotonic() - started < 5
    assert not ok(addon.release_lock("lock:short", first.token)).released  # stale token
    assert addon.client().get(PREFIX + "lock:short") == second.token


@check
def check_lock_wait_gives_up(addon: RedisRoomsAddon) -> None:
    ok(addon.acquire_lock("lock:busy", ttl_ms=30_000))
    started = time.monotonic()
    assert not ok(addon.acquire_lock("lock:busy", ttl_ms=1000, wait_s=0.3)).acquired
    assert 0.25 <= time.monotonic() - started < 5


@check
def check_lock_bad_input(addon: RedisRoomsAddon) -> None:
    for bad in ({"ttl_ms": 0}, {"ttl_ms": True}, {"wait_s": -1}, {"name": ""}):
        failed(addon.acquire_lock(**{"name": "l", "ttl_ms": 100, **bad}), 400)
    failed(addon.release_lock("l", ""), 400)
    failed(addon.extend_lock("l", "t", ttl_ms=0), 400)
    assert addon.client().exists(PREFIX + "l") == 0


# --- chat history ---------------------------------------------------------------------------

CHAT = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi, I'm Ada."},
    {"role": "assistant", "content": "Hello Ada!", "model": "m1"},
]


@check
def check_history_append_get_clear(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    out = ok(addon.history_append("s-1", CHAT[:2], ex=600))
    assert (out.length, out.key) == (2, "history:s-1")
    assert ok(addon.history_append("s-1", CHAT[2])).length == 3  # one message object
    got = ok(addon.history_get("s-1"))
    assert (got.messages, got.count, got.found) == (CHAT, 3, True)
    assert ok(addon.history_get("s-1", last=2)).messages == CHAT[1:]
    assert [json.loads(e) for e in raw.lrange(PREFIX + "history:s-1", 0, -1)] == CHAT
    cleared = ok(addon.history_clear("s-1"))
    assert cleared.cleared
    assert not ok(addon.history_clear("s-1")).cleared
    missing = ok(addon.history_get("s-1"))
    assert (missing.messages, missing.found) == ([], False)


@check
def check_history_trims_and_ttl_slides(addon: RedisRoomsAddon) -> None:
    raw = addon.client()
    ok(addon.history_append(42, CHAT, max_messages=2, ex=100))  # a numeric id from a template
    assert ok(addon.history_get("42")).messages == CHAT[1:]
    raw.expire(PREFIX + "history:42", 5)
    ok(addon.history_append("42", {"role": "user", "content": "more"}, max_messages=2, ex=100))
    assert raw.ttl(PREFIX + "history:42") > 5  # each append restarts the TTL
    assert [m["content"] for m in ok(addon.history_get("42")).messages] == ["Hello Ada!", "more"]


@check
def check_history_bad_input(addon: RedisRoomsAddon) -> None:
    bads = [
        {"messages": []},
        {"messages": [{"content": "no role"}]},
        {"messages": [{"role": "", "content": "x"}]},
        {"messages": [{"role": "user"}]},
        {"messages": ["just text"]},
        {"max_messages": 0},
        {"session_id": ""},
    ]
    for bad in bads:
        failed(addon.history_append(**{"session_id": "s", "messages": CHAT, **bad}), 400)
    assert addon.client().exists(PREFIX + "history:s") == 0
    addon.client().rpush(PREFIX + "history:bad", "not json")
    assert "not a JSON message" in failed(addon.history_get("bad"), 422)
    failed(addon.history_get("s", last=0), 400)


# --- guardrails: run on an addon with max_value_bytes = LIMIT ---------------------------------

LIMIT = 16  # bytes
LIMITED: list = []


def limited(function: Check) -> Check:
    LIMITED.append(pytest.param(function, id=function.__name__.removeprefix("check_")))
    return function


@limited
def check_list_push_refuses_a_value_over_the_limit(addon: RedisRoomsAddon) -> None:
    assert ok(addon.list_push("q", ["x" * LIMIT])).length == 1
    message = failed(addon.list_push("q", ["small", "y" * (LIMIT + 1)]), 413)
    assert "max_value_bytes" in message
    assert addon.client().lrange(PREFIX + "q", 0, -1) == ["x" * LIMIT]  # nothing of the batch


@limited
def check_hash_set_refuses_a_value_over_the_limit(addon: RedisRoomsAddon) -> None:
    failed(addon.hash_set("h", {"a": "ok", "b": {"long": "y" * LIMIT}}), 413)
    assert addon.client().exists(PREFIX + "h") == 0


@limited
def check_publish_refuses_a_message_over_the_limit(addon: RedisRoomsAddon) -> None:
    failed(addon.publish("events", "é" * (LIMIT // 2 + 1)), 413)  # counted in UTF-8 bytes


@limited
def check_history_append_refuses_a_message_over_the_limit(addon: RedisRoomsAddon) -> None:
    failed(addon.history_append("s", [{"role": "user", "content": "x" * LIMIT}]), 413)
    assert addon.client().exists(PREFIX + "history:s") == 0
