"""Actions as agent tools: schemas derived from the method signatures, as the engine does."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import create_model

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon


def tool_schema(method: Any) -> dict:
    """What an agent addon derives: inspect.signature + pydantic.create_model."""
    fields = {}
    for name, parameter in inspect.signature(method).parameters.items():
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (parameter.annotation, default)
    return create_model(f"{method.__name__}_tool", **fields).model_json_schema()


EXPECTED = {
    "set_key": {
        "properties": {
            "key": {"title": "Key", "type": "string"},
            "value": {"title": "Value"},
            "ex": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "default": None,
                "title": "Ex",
            },
        },
        "required": ["key", "value"],
    },
    "get_key": {
        "properties": {"key": {"title": "Key", "type": "string"}},
        "required": ["key"],
    },
    "delete_key": {
        "properties": {"key": {"title": "Key", "type": "string"}},
        "required": ["key"],
    },
    "list_keys": {
        "properties": {"pattern": {"default": "*", "title": "Pattern", "type": "string"}},
        "required": [],
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tool_schema_is_exact(name: str) -> None:
    schema = tool_schema(getattr(RedisRoomsAddon(), name))
    assert schema["properties"] == EXPECTED[name]["properties"]
    assert schema.get("required", []) == EXPECTED[name]["required"]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogued_action_is_a_documented_method(name: str) -> None:
    method = getattr(RedisRoomsAddon, name)
    assert inspect.getdoc(method).strip().splitlines()[0] == CATALOGUE[name].summary
    kinds = {p.kind for p in inspect.signature(method).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert inspect.Parameter.VAR_POSITIONAL not in kinds


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_signature_parameters_match_the_input_model(name: str) -> None:
    parameters = list(inspect.signature(getattr(RedisRoomsAddon, name)).parameters)[1:]
    assert parameters == list(CATALOGUE[name].input.model_fields)
