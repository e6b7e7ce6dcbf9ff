"""A test double of the platform's agent tool path, as the org's agent addons run it
(anthropic-rooms-pkg and openai-rooms-pkg: ``tools/base.py``'s ToolRegistry and the tool loop
of ``actions/chat_completion.py``), written here to mirror their logic:

- the tool's input schema comes from the bound method's signature alone: each parameter's
  annotation (Any when missing) and default (required when none) into ``pydantic.create_model``,
  then ``model_json_schema()`` (an exception there gives an empty, permissive schema);
- before a call, an argument that is a string is parsed as JSON only when its property's
  top-level ``type`` is "object" or "array" and it starts with ``{`` or ``[`` (then, when JSON
  fails, as a Python literal); "null", "None" or "" for such a property becomes None when the
  property's default is None;
- the method is then called with the arguments as keywords, and the result's ``code`` < 400 is a
  success.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
from collections.abc import Callable
from typing import Any

from pydantic import create_model


class ToolRegistry:
    """Tools by name: their functions and input schemas (as the agent addons register them)."""

    def __init__(self) -> None:
        self.functions: dict[str, Callable[..., Any]] = {}
        self.schemas: dict[str, dict[str, Any]] = {}

    def register(self, name: str, function: Callable[..., Any]) -> None:
        self.functions[name] = function
        self.schemas[name] = input_schema(function)

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        """What the tool loop does with the model's ``tool_use`` arguments."""
        return self.functions[name](**parse_tool_input(self.schemas[name], arguments))


def input_schema(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        fields = {}
        for name, parameter in inspect.signature(function).parameters.items():
            annotation = (
                Any if parameter.annotation is inspect.Parameter.empty else (parameter.annotation)
            )
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[name] = (annotation, default)
        schema = create_model("DynamicToolSchema", **fields).model_json_schema()
    except Exception:  # the agent addons fall back to a permissive schema
        return {"type": "object", "properties": {}, "required": []}
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    schema.setdefault("type", "object")
    return schema


def parse_tool_input(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    parsed = {}
    for name, value in arguments.items():
        parsed[name] = value
        if name not in properties or not isinstance(value, str):
            continue
        prop = properties[name]
        if prop.get("type") not in ("object", "array"):
            continue
        if value.strip().startswith(("{", "[")):
            result = None
            try:
                result = json.loads(value)
            except json.JSONDecodeError:
                with contextlib.suppress(ValueError, SyntaxError):
                    result = ast.literal_eval(value)
            if result is not None:
                parsed[name] = result
        elif value.strip() in ("null", "None", ""):
            parsed[name] = None if prop.get("default") is None else value
    return parsed
