"""Issue 11, input side, without a server: the rules behind the limits, as agents see them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from redis import exceptions as rx

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.actions.base import (
    MAX_EXPIRE_MS,
    MAX_EXPIRE_S,
    MAX_JSON_DEPTH,
    ActionContext,
    Keyspace,
    _depth_ok,
    reply_size,
)
from redis_rooms_pkg.actions.delete_matching import starts_with_literal
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.errors import AddonError, describe


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        pytest.param("a*", True, id="letter"),
        pytest.param("session:*", True, id="word"),
        pytest.param("\\*x", True, id="escaped-star"),
        pytest.param("\\?", True, id="escaped-question"),
        pytest.param("*", False, id="star"),
        pytest.param("?*", False, id="question-star"),
        pytest.param("?", False, id="question"),
        pytest.param("[a-z]*", False, id="class"),
        pytest.param("\\", False, id="lone-backslash"),
    ],
)
def test_a_pattern_is_safe_only_with_a_literal_first_character(pattern: str, literal: bool) -> None:
    assert starts_with_literal(pattern) is literal


def test_expiry_bounds_are_in_the_tool_schema() -> None:
    schema = CATALOGUE["set_key"].input.model_json_schema()["properties"]
    ex = next(option for option in schema["ex"]["anyOf"] if option.get("type") == "integer")
    px = next(option for option in schema["px"]["anyOf"] if option.get("type") == "integer")
    assert (ex["maximum"], px["maximum"]) == (MAX_EXPIRE_S, MAX_EXPIRE_MS)
    assert "10^15" in ex["description"]
    assert "10^18" in px["description"]


def test_expiry_bounds_fit_redis_signed_64_bit_milliseconds() -> None:
    far_future_ms = 10**14  # Unix time in ms around the year 5138
    assert MAX_EXPIRE_S * 1000 + far_future_ms < 2**63
    assert MAX_EXPIRE_MS + far_future_ms < 2**63


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        pytest.param("text", True, id="scalar"),
        pytest.param(nested(MAX_JSON_DEPTH), True, id="at-limit"),
        pytest.param(nested(MAX_JSON_DEPTH + 1), False, id="over"),
        pytest.param({"a": [1, {"b": nested(MAX_JSON_DEPTH - 2)}]}, False, id="mixed-over"),
        pytest.param({"a": [1, {"b": nested(MAX_JSON_DEPTH - 3)}]}, True, id="mixed-at"),
    ],
)
def test_json_depth_is_measured_without_recursion(data: object, ok: bool) -> None:
    assert _depth_ok(data) is ok


def test_reply_size_counts_names_and_values() -> None:
    assert reply_size({"ab": b"xyz", "c": None}, ["d", b"ef"], None) == 2 + 3 + 1 + 1 + 2
    assert reply_size(["é"]) == 2  # UTF-8 bytes, not characters


@pytest.mark.parametrize(
    ("name", "fits"),
    [
        pytest.param("n" * 8, True, id="ascii-at"),
        pytest.param("n" * 9, False, id="ascii-over"),
        pytest.param("é" * 4, True, id="utf8-at"),
        pytest.param("é" * 4 + "x", False, id="utf8-over"),
    ],
)
def test_names_are_measured_in_utf8_bytes_without_the_prefix(name: str, fits: bool) -> None:
    keys = Keyspace("a-long-prefix:", max_name_bytes=8)
    if fits:
        assert keys.key(name) == "a-long-prefix:" + name
        return
    with pytest.raises(AddonError) as caught:
        keys.key(name)
    assert caught.value.code == 413
    assert "max_name_bytes limit (8)" in caught.value.message


def test_new_limits_have_their_defaults_and_refuse_zero() -> None:
    config = CustomAddonConfig(id="r", type="redis", name="r")
    assert (config.max_name_bytes, config.max_call_bytes, config.max_response_bytes) == (
        1024,
        4 * 1024 * 1024,
        4 * 1024 * 1024,
    )
    for field in ("max_name_bytes", "max_call_bytes", "max_response_bytes"):
        with pytest.raises(ValidationError):
            CustomAddonConfig(id="r", type="redis", name="r", **{field: 0})


def test_the_addon_hands_its_limits_to_the_actions() -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(
        {
            "id": "r",
            "type": "redis",
            "name": "r",
            "config": {
                "mode": "embedded",
                "max_name_bytes": 7,
                "max_call_bytes": 8,
                "max_response_bytes": 9,
            },
        }
    )
    context: ActionContext = addon.context()
    assert (context.keys.max_name_bytes, context.max_call_bytes, context.max_response_bytes) == (
        7,
        8,
        9,
    )
    addon.close()


@pytest.mark.parametrize("command", ["evalsha", "eval", "script|load"])
def test_a_denied_script_command_advises_scripting(command: str) -> None:
    exc = rx.NoPermissionError(f"this user has no permissions to run the '{command}' command")
    code, message = describe(exc, "Redis at h:1", 5, "increment")
    assert code == 403
    assert "+@scripting" in message


def test_other_denied_commands_keep_their_advice() -> None:
    exc = rx.NoPermissionError("this user has no permissions to run the 'set' command")
    message = describe(exc, "Redis at h:1", 5, "set_key")[1]
    assert "SET command" in message
    assert "+@scripting" not in message
