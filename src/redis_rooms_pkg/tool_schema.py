"""The actions as agent tools: each one's JSON schema, as agents derive it, and its strict form.

``tool_schema(name)`` is what the platform's agent addons build from the action method's
signature (``inspect.signature`` and ``pydantic.create_model``, then ``model_json_schema()``):
descriptions, bounds and enums come from the signature's ``Annotated`` types.

``tool_schema(name, strict=True)`` is the same schema in the subset of JSON Schema that
OpenAI's strict mode (structured outputs, ``"strict": true`` function tools) accepts:

- every object says ``"additionalProperties": false`` and lists every property in
  ``required``; an optional parameter is nullable instead (null means its default, which the
  addon applies), and its default is said in its description;
- keywords strict mode does not support are left out, and what they said is put into the
  description in words (``default``, ``minLength``/``maxLength``, ``propertyNames``,
  ``minProperties``/``maxProperties``, ``title``);
- an object with free keys (``hash_set.fields``, ``set_many.items``, ``zset_add.scores``,
  ``queue_add.job``) cannot be written in strict mode: it becomes a string holding the
  object's JSON text, which the addon reads as the object (see ``actions.base.parse_json_text``);
- a value of any JSON type (``set_key.value``, ``publish.message``, ``list_push.values``) takes
  text, numbers and booleans, and arrays of them (an object's JSON text is stored as that text:
  read it back with ``encoding: "json"`` to get the object).
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

from pydantic import create_model

# Keywords the strict mode accepts (https://platform.openai.com/docs/guides/structured-outputs,
# "Supported schemas"); every other one is removed (its meaning put into the description).
STRICT_KEYWORDS = frozenset(
    {
        "type", "description", "enum", "const", "anyOf", "properties", "required",
        "additionalProperties", "items", "$ref", "$defs", "pattern", "format", "multipleOf",
        "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "minItems", "maxItems",
    }
)  # fmt: skip
# What a value of any JSON type may be in strict mode (an object is its JSON text)
SCALARS: list[dict[str, Any]] = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
FREE_OBJECT_HINT = 'an object: send its JSON text, e.g. {"a": 1}'


def tool_schema(name: str, *, strict: bool = False) -> dict[str, Any]:
    """The JSON schema of action ``name``'s parameters, as an agent addon builds it from the
    method's signature; ``strict``: in the subset OpenAI's strict mode accepts."""
    from redis_rooms_pkg.actions import CATALOGUE
    from redis_rooms_pkg.addon import RedisRoomsAddon

    if name not in CATALOGUE:
        raise KeyError(name)
    fields: dict[str, Any] = {}
    for parameter in list(inspect.signature(getattr(RedisRoomsAddon, name)).parameters.values())[
        1:
    ]:
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (parameter.annotation, default)
    schema = create_model(f"{name}_parameters", **fields).model_json_schema()
    return strict_schema(schema) if strict else schema


def tool_definitions(*, strict: bool = False) -> list[dict[str, Any]]:
    """Every action as a function tool (OpenAI's format: name, description, parameters, strict),
    described by its summary."""
    from redis_rooms_pkg.actions import CATALOGUE

    return [
        {
            "type": "function",
            "name": name,
            "description": CATALOGUE[name].summary,
            "parameters": tool_schema(name, strict=strict),
            "strict": strict,
        }
        for name in CATALOGUE
    ]


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (a tool's parameters: an object) in the subset strict mode accepts."""
    source = copy.deepcopy(schema)
    definitions = source.pop("$defs", None)
    converted = _node(source)
    converted.pop("description", None)  # the tool's description says what it does
    if definitions:
        converted["$defs"] = {name: _node(part) for name, part in definitions.items()}
    return converted


def _node(schema: dict[str, Any]) -> dict[str, Any]:
    words = _words(schema)
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    if "anyOf" in schema:
        members, said = _members([_node(member) for member in schema["anyOf"]])
        out: dict[str, Any] = {"anyOf": members}
        words += said
    elif schema.get("type") == "object" and "properties" in schema:
        out = _object(schema)
    elif schema.get("type") == "object":  # free keys: not expressible in strict mode
        out = {"type": "string"}
        if "sent as text is read as" not in schema.get("description", ""):
            words.append(FREE_OBJECT_HINT)
    elif schema.get("type") == "array":
        out = {key: schema[key] for key in ("type", "minItems", "maxItems") if key in schema}
        items = schema.get("items") or {}
        out["items"] = _node(items) if items else {"anyOf": copy.deepcopy(SCALARS)}
    elif "type" not in schema and "enum" not in schema and "const" not in schema:  # any value
        out = {"anyOf": copy.deepcopy(SCALARS)}
    else:
        out = {key: value for key, value in schema.items() if key in STRICT_KEYWORDS}
        out.pop("description", None)
    description = "; ".join(part for part in [schema.get("description", ""), *words] if part)
    if description:
        out["description"] = description
    return out


def _object(schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    properties: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        converted = _node(prop)
        if name not in required:
            converted = _nullable(converted)
        properties[name] = converted
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also takes null (an optional parameter: null means its default)."""
    description = schema.pop("description", None)
    members = schema["anyOf"] if list(schema) == ["anyOf"] else [schema]
    if not any(member.get("type") == "null" for member in members):
        members = [*members, {"type": "null"}]
    out: dict[str, Any] = {"anyOf": members}
    if description:
        out["description"] = description
    return out


def _members(members: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The members of an anyOf, flattened (a member that is an anyOf gives its members, and its
    description to the parent's), without repeats (a free object became a string: what the
    repeat says joins the member kept); and the descriptions for the parent."""
    flat: list[dict[str, Any]] = []
    said: list[str] = []
    for member in members:
        if "anyOf" in member:
            flat += member["anyOf"]
            if member.get("description"):
                said.append(member["description"])
        else:
            flat.append(member)
    seen: dict[str, dict[str, Any]] = {}
    for member in flat:
        key = json.dumps({k: v for k, v in member.items() if k != "description"}, sort_keys=True)
        kept = seen.setdefault(key, member)
        extra = member.get("description")
        if kept is not member and extra and extra not in kept.get("description", ""):
            kept["description"] = "; ".join(filter(None, [kept.get("description"), extra]))
    return list(seen.values()), said


def _words(schema: dict[str, Any]) -> list[str]:
    """What the unsupported keywords of ``schema`` said, in words for its description."""
    words = []
    if schema.get("default") is not None:
        words.append(f"null: the default, {json.dumps(schema['default'])}")
    elif "default" in schema:
        words.append("null: not given")
    if schema.get("minLength", 0) > 1:
        words.append(f"at least {schema['minLength']} characters")
    if "maxLength" in schema:
        words.append(f"at most {schema['maxLength']} characters")
    if "minProperties" in schema and schema["minProperties"] > 1:
        words.append(f"at least {schema['minProperties']} entries")
    if "maxProperties" in schema:
        words.append(f"at most {schema['maxProperties']} entries")
    return words
