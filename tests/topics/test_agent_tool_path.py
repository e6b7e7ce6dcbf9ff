"""The agents' real path: tool schemas from the signatures and arguments as the org's tool loop
passes them (tests/agent_tools.py mirrors it), list and object parameters sent as JSON text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_tools import ToolRegistry
from catalogue_calls import CALLS
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.actions.base import parse_json_text, validate
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


def registry(addon: RedisRoomsAddon) -> ToolRegistry:
    tools = ToolRegistry()
    for name in CATALOGUE:
        tools.register(name, getattr(addon, name))
    return tools


def test_a_key_list_sent_as_text_deletes_every_key(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    """Was: 200 "deleted 0 of 1", nothing deleted (the text taken as one key's name)."""
    server.client().mset({"greeting": "hi", "x": "1", "kept": "2"})
    tools = registry(real_addon)
    assert tools.schemas["delete_key"]["properties"]["keys"].get("type") is None  # anyOf: kept
    response = tools.call("delete_key", {"keys": '["greeting","x"]'})
    assert response.code == 200
    assert response.output.deleted_count == 2
    assert server.client().keys("*") == ["kept"]


def test_hash_fields_sent_as_text_read_those_fields(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    """Was: 200 with values {'["name"]': null} and found true."""
    server.client().hset("user:1", mapping={"name": "Ada", "plan": "pro"})
    response = registry(real_addon).call("hash_get", {"key": "user:1", "fields": '["name"]'})
    assert response.code == 200
    assert response.output.values == {"name": "Ada"}


def test_members_and_objects_sent_as_text(real_addon: RedisRoomsAddon, server: RedisServer) -> None:
    tools = registry(real_addon)
    assert tools.call("set_add", {"key": "s", "members": '["a", "b"]'}).code == 200
    assert server.client().smembers("s") == {"a", "b"}
    assert tools.call("hash_set", {"key": "h", "fields": '{"n": 1}'}).code == 200
    assert server.client().hgetall("h") == {"n": "1"}
    added = tools.call("zset_add", {"key": "z", "scores": '{"m": 2.5}'})
    assert added.code == 200
    assert server.client().zscore("z", "m") == 2.5


def test_text_that_is_not_json_stays_one_name(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    """A name that only begins with a bracket is a name, as the parameter's description says."""
    server.client().set("[draft] plan", "1")
    response = registry(real_addon).call("delete_key", {"keys": "[draft] plan"})
    assert response.code == 200
    assert response.output.deleted_count == 1


def test_one_name_that_is_json_text_goes_in_a_list(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    server.client().set('["a"]', "1")
    response = registry(real_addon).call("exists_key", {"keys": ['["a"]']})
    assert response.output.exists == {'["a"]': True}


def _list_and_object_parameters() -> list[Any]:
    found = []
    for name in CATALOGUE:
        for parameter in CATALOGUE[name].json_text:
            if parameter in CALLS[name]:
                found.append(pytest.param(name, parameter, id=f"{name}.{parameter}"))
    return found


@pytest.mark.parametrize(("name", "parameter"), _list_and_object_parameters())
def test_every_list_and_object_parameter_reads_json_text(name: str, parameter: str) -> None:
    """For every action, its example's list or object sent as JSON text means the same input."""
    spec = CATALOGUE[name]
    as_text = {**CALLS[name], parameter: json.dumps(CALLS[name][parameter])}
    direct = validate(spec.input, CALLS[name])
    assert validate(spec.input, parse_json_text(spec.json_text, as_text)) == direct


def test_the_json_text_parameters_are_every_list_and_object_parameter() -> None:
    """No list or object parameter is left out (the kinds come from the input model's schema)."""
    for name in CATALOGUE:
        schema = CATALOGUE[name].input.model_json_schema()["properties"]
        for parameter, prop in schema.items():
            types = {prop.get("type"), *(part.get("type") for part in prop.get("anyOf", []))}
            takes = bool(types & {"array", "object"}) and "string" not in types
            assert takes == (parameter in CATALOGUE[name].json_text), f"{name}.{parameter}"


def test_a_value_that_is_json_text_is_stored_as_that_text(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    """A value takes text as such: JSON text is never read as something else."""
    assert "value" not in CATALOGUE["set_key"].json_text
    response = registry(real_addon).call("set_key", {"key": "k", "value": '["a", 1]'})
    assert response.code == 200
    assert server.client().get("k") == '["a", 1]'


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_each_list_and_object_parameter_says_how_text_is_read(name: str) -> None:
    """What an agent reads (the tool schema's descriptions) says that JSON text is parsed."""
    properties = registry(RedisRoomsAddon()).schemas[name]["properties"]
    for parameter in CATALOGUE[name].json_text:
        description = properties[parameter]["description"]
        assert "sent as text is read as that" in description, f"{name}.{parameter}"


names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda text: text.strip() != "")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys=st.lists(names, min_size=1, max_size=5, unique=True), present=st.data())
def test_any_key_list_as_text_equals_the_list(
    real_addon: RedisRoomsAddon, server: RedisServer, keys: list[str], present: st.DataObject
) -> None:
    """Property, on a real server: exists_key of any key list sent as JSON text answers exactly
    as the list itself."""
    client = server.client()
    client.flushall()
    stored = present.draw(st.lists(st.sampled_from(keys), unique=True))
    for key in stored:
        client.set(key, "1")
    tools = registry(real_addon)
    as_list = tools.call("exists_key", {"keys": keys})
    as_text = tools.call("exists_key", {"keys": json.dumps(keys)})
    assert as_text.code == as_list.code == 200
    assert as_text.output == as_list.output
    assert as_list.output.exists == {key: key in stored for key in keys}
