"""Actions as agent tools: schemas derived from the method signatures, as the engine does."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, create_model

from catalogue_calls import CALLS
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon


def tool_schema(method: Any) -> dict:
    """What an agent addon derives: inspect.signature + pydantic.create_model."""
    fields = {}
    for name, parameter in inspect.signature(method).parameters.items():
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[name] = (parameter.annotation, default)
    return create_model(f"{method.__name__}_tool", **fields).model_json_schema()


# Every call an agent might make with each parameter in turn: hostile and ordinary values.
PROBES: list[Any] = [
    None, True, False, 0, -1, 1, 7, 10**20, -(10**20), 1.5, float("nan"), float("inf"),
    "", " ", "x", "1", "*", "?*", "\ud800", "x" * 2000, [], ["a"], ["a", "b"], [1], {}, {"a": 1},
    {"role": "user", "content": "hi"}, [{"role": "user", "content": "hi"}], "left", "text",
    "memory", "0", "99999999999999999999",
]  # fmt: skip
NUMBER_TYPES = ("integer", "number")


def _parts(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's schema and, for a union, each non-null member."""
    members = [part for part in schema.get("anyOf", []) if part.get("type") != "null"]
    return [schema, *members]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_parameter_is_described_bounded_and_enumerated(name: str) -> None:
    """What an agent learns of each parameter: its description, a number's bounds, the values
    an enumeration allows (all of it from the signature alone)."""
    schema = tool_schema(getattr(RedisRoomsAddon(), name))
    assert schema["properties"], name
    for parameter, prop in schema["properties"].items():
        assert prop.get("description"), f"{name}.{parameter} has no description"
        for part in _parts(prop):
            if part.get("type") == "integer":
                assert {"minimum", "exclusiveMinimum"} & set(part), f"{name}.{parameter}"
                assert "maximum" in part, f"{name}.{parameter}"
            value = "string" in {member.get("type") for member in _parts(prop)}  # any JSON value
            if part.get("type") == "number" and not value:
                assert {"minimum", "exclusiveMinimum"} & set(part), f"{name}.{parameter}"
                assert "maximum" in part, f"{name}.{parameter}"
        annotation = inspect.signature(getattr(RedisRoomsAddon, name)).parameters[parameter]
        if "Literal" in str(annotation.annotation):
            assert any("enum" in part for part in _parts(prop)), f"{name}.{parameter}"


def tool_model(name: str) -> type[BaseModel]:
    method = getattr(RedisRoomsAddon(), name)
    fields = {}
    for parameter, declared in inspect.signature(method).parameters.items():
        default = ... if declared.default is inspect.Parameter.empty else declared.default
        fields[parameter] = (declared.annotation, default)
    return create_model(f"{name}_tool", **fields)


def _refused(model: type[BaseModel], data: dict[str, Any]) -> list[dict[str, Any]] | None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return exc.errors()
    return None


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_tool_schema_accepts_and_refuses_what_the_action_does(name: str) -> None:
    """The agent's model (from the signature) and the action's input model agree on every
    probe of every parameter; the action adds only its rules that tie parameters together."""
    tool, action = tool_model(name), CATALOGUE[name].input
    for parameter in inspect.signature(getattr(RedisRoomsAddon(), name)).parameters:
        for probe in PROBES:
            data = {**CALLS[name], parameter: probe}
            by_tool, by_action = _refused(tool, data), _refused(action, data)
            if by_tool is not None:
                assert by_action is not None, (parameter, probe)
            elif by_action is not None:  # only a rule over several parameters may refuse
                assert all(error["loc"] == () for error in by_action), (parameter, probe)


def test_probes_reach_both_answers() -> None:
    """The probes are not all refused (or all accepted): the comparison above means something."""
    action = CATALOGUE["set_key"].input
    answers = {_refused(action, {**CALLS["set_key"], "ex": probe}) is None for probe in PROBES}
    assert answers == {True, False}


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
    """What each action may change comes from its decorator: destroying is writing; the
    actions that remove data are the destructive ones."""
    destructive = {name for name, spec in CATALOGUE.items() if spec.destructive}
    assert {"delete_key", "delete_matching", "list_pop", "hash_delete", "history_clear"} <= (
        destructive
    )
    assert all(CATALOGUE[name].writes for name in destructive)
    assert CATALOGUE["get_key"].read_only
    assert CATALOGUE["set_key"].writes
    assert not CATALOGUE["set_key"].destructive
