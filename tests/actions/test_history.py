"""Chat history: history_append, history_get, history_clear. Cases take ``prefixed`` / ``limited``
(key_prefix PREFIX, both backends, tests/backends.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError, field_validator

from action_support import LIMIT, PREFIX, failed, ok
from redis_rooms_pkg.actions.base import ActionOutput, output_as_checked, parse_json
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


def test_history_get_reads_each_entry_as_json_loads_does(prefixed: RedisRoomsAddon) -> None:
    """history_get parses entries with actions.base.parse_json (json.loads's scanner called
    directly): entries with spaces around them or a byte-order mark, extra data after a value,
    or JSON that is not an object answer as json.loads would have them."""
    raw = prefixed.client()
    key = PREFIX + "history:odd"
    raw.rpush(key, ' {"role": "user", "content": "padded"}\n', '{"role":"a","content":"b"}')
    assert ok(prefixed.history_get("odd")).messages == [
        {"role": "user", "content": "padded"},
        {"role": "a", "content": "b"},
    ]
    for bad in ('{"role": "a"} {"extra": 1}', '\ufeff{"role": "a"}', "[1, 2]", '"text"', ""):
        raw.delete(key)
        raw.rpush(key, bad)
        assert "entry 0" in failed(prefixed.history_get("odd"), 422)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
AROUND = st.sampled_from(["", " ", "\n", "\t", "\ufeff", "x", "]", "}", ",", '"'])


def loaded(parse: Callable[[str], Any], text: str) -> tuple[str, str]:
    """What ``parse`` makes of ``text``: the value's repr (NaN equals itself there), or the
    error's type and message."""
    try:
        return "value", repr(parse(text))
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(value=JSON_VALUES, before=AROUND, after=AROUND, cut=st.integers(0, 3))
def test_parse_json_is_json_loads_on_json_text(
    value: Any, before: str, after: str, cut: int
) -> None:
    text = json.dumps(value)
    for candidate in (text, before + text + after, text[: max(len(text) - cut, 0)]):
        assert loaded(parse_json, candidate) == loaded(json.loads, candidate)


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(text=st.text())
def test_parse_json_is_json_loads_on_any_text(text: str) -> None:
    assert loaded(parse_json, text) == loaded(json.loads, text)


def test_parse_json_is_json_loads_on_nesting_too_deep() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert loaded(parse_json, deep) == loaded(json.loads, deep)


VARIED = [
    {"role": "user", "content": "héllo ✓", "ünïcode key": [1, 2.5, None, True, {"deep": []}]},
    {"role": "tool", "content": {"result": {"rows": [[1, "a"], [2, "b"]]}, "ok": False}},
    {"role": "assistant", "content": "", "tokens": 2**70, "score": -0.0, "tags": []},
]


def test_history_get_output_is_what_validation_builds(prefixed: RedisRoomsAddon) -> None:
    """history_get builds its output without the validator (output_as_checked): the same
    dump, fields set and types as validating the same values."""
    ok(prefixed.history_append("varied", VARIED))
    got = ok(prefixed.history_get("varied"))
    given = {name: getattr(got, name) for name in got.model_fields_set}
    validated = type(got).model_validate(given)
    assert got.model_dump_json() == validated.model_dump_json()
    assert list(got.model_dump()) == list(validated.model_dump())
    assert got.model_fields_set == validated.model_fields_set
    assert got.messages == VARIED


def test_output_as_checked_validates_a_model_with_validators_or_an_unknown_field() -> None:
    class Checked(ActionOutput):
        names: list[str] | None = Field(default_factory=list)

        @field_validator("names")
        @classmethod
        def upper(cls, value: list[str] | None) -> list[str] | None:
            return [name.upper() for name in value] if value else value

    class Plain(ActionOutput):
        names: list[str] | None = Field(default_factory=list)

    assert output_as_checked(Checked, names=["a"]).names == ["A"]  # the validator ran
    first, second = output_as_checked(Plain), output_as_checked(Plain)
    assert first.names == []
    assert first.names is not second.names  # a fresh default each
    with pytest.raises(ValidationError):
        output_as_checked(Plain, names=["a"], unknown=1)  # not a field: validated (and refused)
