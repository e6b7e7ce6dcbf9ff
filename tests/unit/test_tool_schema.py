"""Actions as agent tools: schemas derived from the method signatures, as the engine does."""

from __future__ import annotations

import inspect
from typing import Any, get_args

import pytest
from pydantic import create_model

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.actions.server_info import Section
from redis_rooms_pkg.addon import RedisRoomsAddon


def tool_schema(method: Any) -> dict:
    """What an agent addon derives: inspect.signature + pydantic.create_model."""
    fields = {}
    for name, parameter in inspect.signature(method).parameters.items():
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (parameter.annotation, default)
    return create_model(f"{method.__name__}_tool", **fields).model_json_schema()


def optional(kind: str, name: str) -> dict:
    return {"anyOf": [{"type": kind}, {"type": "null"}], "default": None, "title": name}


def flag(name: str) -> dict:
    return {"default": False, "title": name, "type": "boolean"}


ENCODING = {
    "default": "text",
    "enum": ["text", "json", "base64"],
    "title": "Encoding",
    "type": "string",
}
KEY = {"title": "Key", "type": "string"}
KEYS = {"items": {"type": "string"}, "title": "Keys", "type": "array"}
SIDE = {"enum": ["left", "right"], "title": "Side", "type": "string"}
WAIT = {"default": 0, "title": "Wait S", "type": "number"}
NAME = {"title": "Name", "type": "string"}
TOKEN = {"title": "Token", "type": "string"}
TTL_MS = {"title": "Ttl Ms", "type": "integer"}
SESSION = {"title": "Session Id", "type": "string"}

EXPECTED = {
    "set_key": {
        "properties": {
            "key": KEY,
            "value": {"title": "Value"},
            "ex": optional("integer", "Ex"),
            "px": optional("integer", "Px"),
            "nx": flag("Nx"),
            "xx": flag("Xx"),
            "keep_ttl": flag("Keep Ttl"),
            "get_previous": flag("Get Previous"),
            "encoding": ENCODING,
        },
        "required": ["key", "value"],
    },
    "get_key": {
        "properties": {"key": KEY, "with_ttl": flag("With Ttl"), "encoding": ENCODING},
        "required": ["key"],
    },
    "delete_key": {
        "properties": {
            "key": optional("string", "Key"),
            "keys": {
                "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                "default": None,
                "title": "Keys",
            },
        },
        "required": [],
    },
    "list_keys": {
        "properties": {
            "pattern": {"default": "*", "title": "Pattern", "type": "string"},
            "limit": {"default": 1000, "title": "Limit", "type": "integer"},
            "cursor": {"default": "0", "title": "Cursor", "type": "string"},
            "with_values": flag("With Values"),
            "encoding": ENCODING,
        },
        "required": [],
    },
    "exists_key": {"properties": {"keys": KEYS}, "required": ["keys"]},
    "expire_key": {
        "properties": {
            "key": KEY,
            "ex": optional("integer", "Ex"),
            "px": optional("integer", "Px"),
            "persist": flag("Persist"),
        },
        "required": ["key"],
    },
    "get_ttl": {"properties": {"key": KEY}, "required": ["key"]},
    "get_many": {"properties": {"keys": KEYS, "encoding": ENCODING}, "required": ["keys"]},
    "set_many": {
        "properties": {
            "items": {"additionalProperties": True, "title": "Items", "type": "object"},
            "ex": optional("integer", "Ex"),
            "nx": flag("Nx"),
            "encoding": ENCODING,
        },
        "required": ["items"],
    },
    "delete_matching": {
        "properties": {
            "pattern": {"title": "Pattern", "type": "string"},
            "limit": {"default": 10000, "title": "Limit", "type": "integer"},
            "allow_all": flag("Allow All"),
        },
        "required": ["pattern"],
    },
    # --- workflow building blocks ---
    "increment": {
        "properties": {
            "key": KEY,
            "by": {"anyOf": [{"type": "integer"}, {"type": "number"}], "default": 1, "title": "By"},
            "ex": optional("integer", "Ex"),
        },
        "required": ["key"],
    },
    "rate_limit": {
        "properties": {
            "key": KEY,
            "limit": {"title": "Limit", "type": "integer"},
            "window_s": {"title": "Window S", "type": "number"},
        },
        "required": ["key", "limit", "window_s"],
    },
    "list_push": {
        "properties": {
            "key": KEY,
            "values": {"items": {}, "title": "Values", "type": "array"},
            "side": SIDE | {"default": "right"},
            "max_length": optional("integer", "Max Length"),
            "ex": optional("integer", "Ex"),
        },
        "required": ["key", "values"],
    },
    "list_pop": {
        "properties": {
            "key": KEY,
            "side": SIDE | {"default": "left"},
            "count": {"default": 1, "title": "Count", "type": "integer"},
            "wait_s": WAIT,
        },
        "required": ["key"],
    },
    "list_range": {
        "properties": {
            "key": KEY,
            "start": {"default": 0, "title": "Start", "type": "integer"},
            "stop": {"default": -1, "title": "Stop", "type": "integer"},
        },
        "required": ["key"],
    },
    "list_length": {"properties": {"key": KEY}, "required": ["key"]},
    "hash_set": {
        "properties": {
            "key": KEY,
            "fields": {"additionalProperties": True, "title": "Fields", "type": "object"},
            "ex": optional("integer", "Ex"),
        },
        "required": ["key", "fields"],
    },
    "hash_get": {
        "properties": {
            "key": KEY,
            "fields": {
                "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                "default": None,
                "title": "Fields",
            },
        },
        "required": ["key"],
    },
    "hash_delete": {
        "properties": {
            "key": KEY,
            "fields": {"items": {"type": "string"}, "title": "Fields", "type": "array"},
        },
        "required": ["key", "fields"],
    },
    "publish": {
        "properties": {
            "channel": {"title": "Channel", "type": "string"},
            "message": {"title": "Message"},
        },
        "required": ["channel", "message"],
    },
    "acquire_lock": {
        "properties": {"name": NAME, "ttl_ms": TTL_MS, "wait_s": WAIT},
        "required": ["name", "ttl_ms"],
    },
    "release_lock": {"properties": {"name": NAME, "token": TOKEN}, "required": ["name", "token"]},
    "extend_lock": {
        "properties": {"name": NAME, "token": TOKEN, "ttl_ms": TTL_MS},
        "required": ["name", "token", "ttl_ms"],
    },
    "history_append": {
        "properties": {
            "session_id": SESSION,
            "messages": {
                "items": {"additionalProperties": True, "type": "object"},
                "title": "Messages",
                "type": "array",
            },
            "max_messages": optional("integer", "Max Messages"),
            "ex": optional("integer", "Ex"),
        },
        "required": ["session_id", "messages"],
    },
    "history_get": {
        "properties": {"session_id": SESSION, "last": optional("integer", "Last")},
        "required": ["session_id"],
    },
    "history_clear": {"properties": {"session_id": SESSION}, "required": ["session_id"]},
    "server_info": {
        "properties": {
            "section": {
                "anyOf": [{"enum": list(get_args(Section)), "type": "string"}, {"type": "null"}],
                "default": None,
                "title": "Section",
            }
        },
        "required": [],
    },
}


def test_every_action_has_an_expected_schema() -> None:
    assert set(EXPECTED) == set(CATALOGUE)


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


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_signature_defaults_are_the_input_model_defaults(name: str) -> None:
    """A parameter an agent leaves out means the same as the model's default."""
    parameters = list(inspect.signature(getattr(RedisRoomsAddon, name)).parameters.values())[1:]
    fields = CATALOGUE[name].input.model_fields
    for parameter in parameters:
        field = fields[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            assert field.is_required(), parameter.name
        else:
            assert field.get_default(call_default_factory=True) == parameter.default, parameter.name


def test_catalogue_flags() -> None:
    reads = {name for name, spec in CATALOGUE.items() if spec.read_only}
    destructive = {name for name, spec in CATALOGUE.items() if spec.destructive}
    assert reads == {
        "get_key",
        "list_keys",
        "exists_key",
        "get_ttl",
        "get_many",
        "list_range",
        "list_length",
        "hash_get",
        "history_get",
        "server_info",
    }
    assert destructive == {
        "delete_key",
        "delete_matching",
        "list_pop",
        "hash_delete",
        "history_clear",
    }
    assert all(not CATALOGUE[name].read_only for name in destructive)
