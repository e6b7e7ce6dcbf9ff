"""Strict tool schemas (OpenAI strict mode): every action's passes the documented rules
(tests/strict_rules.py), and a strict call, every parameter given (null for the defaults, free
objects as JSON text), does what the ordinary call does on a real server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from catalogue_calls import CALLS
from conftest import PASSWORD
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.cli import app
from redis_rooms_pkg.tool_schema import tool_definitions, tool_schema
from servers import RedisServer
from strict_rules import strict_problems


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_strict_schema_passes_the_strict_rules(name: str) -> None:
    schema = tool_schema(name, strict=True)
    assert strict_problems(schema) == []
    Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(tool_schema(name)["properties"])


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_ordinary_schema_breaks_them(name: str) -> None:
    """The validator is not lenient: every action's ordinary schema fails strict mode (no
    additionalProperties false at the top, titles, defaults...), as agents found."""
    problems = strict_problems(tool_schema(name))
    assert any("additionalProperties must be false" in problem for problem in problems)


def test_the_validator_names_each_rule() -> None:
    bad = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "minLength": 1},
            "b": {"type": "object", "additionalProperties": True},
            "c": {"type": "array"},
        },
        "required": ["a"],
        "additionalProperties": False,
    }
    problems = strict_problems(bad)
    assert "$: required must list every property" in problems
    assert "$.a: keyword 'minLength' is not supported" in problems
    assert "$.b: an object needs properties" in problems
    assert "$.b: additionalProperties must be false" in problems
    assert "$.c: an array needs items" in problems
    assert strict_problems({"anyOf": [bad]})[0] == "$: the root must be an object, not an anyOf"


def strict_arguments(name: str) -> dict[str, Any]:
    """What a strict-mode model sends for the action's example call: every property, null for
    the ones the example leaves out, a free object as its JSON text."""
    properties = tool_schema(name, strict=True)["properties"]
    arguments: dict[str, Any] = {}
    for parameter, prop in properties.items():
        value = CALLS[name].get(parameter)
        kinds = {prop.get("type"), *(part.get("type") for part in prop.get("anyOf", []))}
        if isinstance(value, dict) and "object" not in kinds:
            value = json.dumps(value)
        arguments[parameter] = value
    return arguments


@pytest.fixture
def fresh(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> Callable[[], RedisRoomsAddon]:
    """A new addon on the emptied real server, for each call compared."""

    def build() -> RedisRoomsAddon:
        server.client().flushall()
        return make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2)

    return build


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_strict_call_answers_as_the_ordinary_call(
    name: str, fresh: Callable[[], RedisRoomsAddon]
) -> None:
    ordinary = getattr(fresh(), name)(**CALLS[name])
    strict = getattr(fresh(), name)(**strict_arguments(name))
    assert strict.code == ordinary.code, strict.message
    assert type(strict.output) is type(ordinary.output)


def test_a_strict_hash_set_stores_the_fields_of_the_json_text(
    fresh: Callable[[], RedisRoomsAddon], server: RedisServer
) -> None:
    addon = fresh()
    response = addon.hash_set(key="user:1", fields='{"name": "Ada", "visits": 3}', ex=None)
    assert response.code == 200
    assert server.client().hgetall("user:1") == {"name": "Ada", "visits": "3"}
    assert server.client().ttl("user:1") == -1


def test_null_for_an_optional_parameter_is_its_default(
    fresh: Callable[[], RedisRoomsAddon], server: RedisServer
) -> None:
    addon = fresh()
    response = addon.list_push(key="q", values=["a", "b"], side=None, max_length=None, ex=None)
    assert response.code == 200
    assert server.client().lrange("q", 0, -1) == ["a", "b"]  # side "right", the default
    assert addon.set_key(key=None, value="v").code == 400  # null for a required one: refused


def test_the_cli_prints_the_strict_tool_definitions() -> None:
    result = CliRunner().invoke(app, ["actions", "--strict"])
    assert result.exit_code == 0, result.output
    tools = [json.loads(line) for line in result.stdout.splitlines()]
    assert [tool["name"] for tool in tools] == list(CATALOGUE)
    assert tools == tool_definitions(strict=True)
    for tool in tools:
        assert tool["strict"] is True
        assert strict_problems(tool["parameters"]) == []


def test_numbers_are_bounded_and_values_typed_in_the_ordinary_schema() -> None:
    """What the issue found missing: increment.by and zset_increment.by bounds, a type for
    set_key.value and publish.message, names' maxLength."""
    by = tool_schema("increment")["properties"]["by"]
    assert all("minimum" in part and "maximum" in part for part in by["anyOf"])
    assert {"minimum", "maximum"} <= set(tool_schema("zset_increment")["properties"]["by"])
    for name, parameter in (("set_key", "value"), ("publish", "message")):
        kinds = {part["type"] for part in tool_schema(name)["properties"][parameter]["anyOf"]}
        assert kinds == {"string", "number", "boolean", "object", "array"}
    assert tool_schema("set_key")["properties"]["key"]["maxLength"] == 1024


def test_the_shown_length_limits_are_the_default_limits() -> None:
    from redis_rooms_pkg.actions.base import NAME_MAX_CHARS, VALUE_MAX_CHARS
    from redis_rooms_pkg.configuration.addonconfig import (
        DEFAULT_MAX_NAME_BYTES,
        DEFAULT_MAX_VALUE_BYTES,
    )

    assert (NAME_MAX_CHARS, VALUE_MAX_CHARS) == (DEFAULT_MAX_NAME_BYTES, DEFAULT_MAX_VALUE_BYTES)
