"""Chat history: history_append, history_get, history_clear. Cases take ``prefixed`` / ``limited``
(key_prefix PREFIX, both backends, tests/backends.py)."""

from __future__ import annotations

import json

from action_support import LIMIT, PREFIX, failed, ok
from redis_rooms_pkg.addon import RedisRoomsAddon

CHAT = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi, I'm Ada."},
    {"role": "assistant", "content": "Hello Ada!", "model": "m1"},
]


def test_history_append_get_clear(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    out = ok(prefixed.history_append("s-1", CHAT[:2], ex=600))
    assert (out.length, out.key) == (2, "history:s-1")
    assert ok(prefixed.history_append("s-1", CHAT[2])).length == 3  # one message object
    got = ok(prefixed.history_get("s-1"))
    assert (got.messages, got.count, got.found) == (CHAT, 3, True)
    assert ok(prefixed.history_get("s-1", last=2)).messages == CHAT[1:]
    assert [json.loads(e) for e in raw.lrange(PREFIX + "history:s-1", 0, -1)] == CHAT
    cleared = ok(prefixed.history_clear("s-1"))
    assert cleared.cleared
    assert not ok(prefixed.history_clear("s-1")).cleared
    missing = ok(prefixed.history_get("s-1"))
    assert (missing.messages, missing.found) == ([], False)


def test_history_trims_and_ttl_slides(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    ok(prefixed.history_append(42, CHAT, max_messages=2, ex=100))  # a numeric id from a template
    assert ok(prefixed.history_get("42")).messages == CHAT[1:]
    raw.expire(PREFIX + "history:42", 5)
    ok(prefixed.history_append("42", {"role": "user", "content": "more"}, max_messages=2, ex=100))
    assert raw.ttl(PREFIX + "history:42") > 5  # each append restarts the TTL
    assert [m["content"] for m in ok(prefixed.history_get("42")).messages] == ["Hello Ada!", "more"]


def test_history_bad_input(prefixed: RedisRoomsAddon) -> None:
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
        failed(prefixed.history_append(**{"session_id": "s", "messages": CHAT, **bad}), 400)
    assert prefixed.client().exists(PREFIX + "history:s") == 0
    prefixed.client().rpush(PREFIX + "history:bad", "not json")
    assert "not a JSON message" in failed(prefixed.history_get("bad"), 422)
    failed(prefixed.history_get("s", last=0), 400)


def test_history_append_refuses_a_message_over_the_limit(limited: RedisRoomsAddon) -> None:
    failed(limited.history_append("s", [{"role": "user", "content": "x" * LIMIT}]), 413)
    assert limited.client().exists(PREFIX + "history:s") == 0
