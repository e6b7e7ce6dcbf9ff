"""A validator of OpenAI's strict-mode rules for function tool parameters (structured outputs,
"Supported schemas"), written from the documented rules, to test the strict tool schemas:

- the root is an object (not an anyOf);
- every object has "additionalProperties": false and lists every property in "required"
  (an optional field is a union with null instead);
- only the supported keywords: for strings pattern and format, for numbers multipleOf,
  minimum, maximum, exclusiveMinimum, exclusiveMaximum, for arrays items, minItems, maxItems;
  beside type, description, enum, const, anyOf, properties, required, additionalProperties,
  $ref and $defs (so no default, title, minLength, maxLength, propertyNames, minProperties,
  maxProperties, patternProperties, allOf, oneOf, not, if/then/else...);
- types among string, number, integer, boolean, object, array, null; arrays have items;
- at most 10 levels of nesting and 5000 properties in all; at most 1000 enum values in all;
  at most 120,000 characters of property names, definition names, enum and const values.
"""

from __future__ import annotations

from typing import Any

SUPPORTED = {
    "type", "description", "enum", "const", "anyOf", "properties", "required",
    "additionalProperties", "items", "$ref", "$defs", "pattern", "format", "multipleOf",
    "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "minItems", "maxItems",
}  # fmt: skip
TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
MAX_DEPTH, MAX_PROPERTIES, MAX_ENUM_VALUES, MAX_TEXT = 10, 5000, 1000, 120_000


def strict_problems(schema: dict[str, Any]) -> list[str]:
    """Every rule ``schema`` (a tool's parameters) breaks, as "path: problem"; [] if none."""
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("$: the root must be an object, not an anyOf")
    totals = {"properties": 0, "enum": 0, "text": 0}
    _check(schema, "$", 1, problems, totals)
    for name, part in schema.get("$defs", {}).items():
        totals["text"] += len(name)
        _check(part, f"$defs.{name}", 1, problems, totals)
    if totals["properties"] > MAX_PROPERTIES:
        problems.append(f"$: {totals['properties']} properties, over {MAX_PROPERTIES}")
    if totals["enum"] > MAX_ENUM_VALUES:
        problems.append(f"$: {totals['enum']} enum values, over {MAX_ENUM_VALUES}")
    if totals["text"] > MAX_TEXT:
        problems.append(f"$: {totals['text']} characters of names and values, over {MAX_TEXT}")
    return problems


def _check(
    node: dict[str, Any], path: str, depth: int, problems: list[str], totals: dict[str, int]
) -> None:
    if depth > MAX_DEPTH:
        problems.append(f"{path}: nested deeper than {MAX_DEPTH} levels")
    for key in sorted(set(node) - SUPPORTED):
        problems.append(f"{path}: keyword {key!r} is not supported")
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    for kind in kinds:
        if kind not in TYPES:
            problems.append(f"{path}: type {kind!r} is not supported")
    if not kinds and not {"anyOf", "enum", "const", "$ref"} & set(node):
        problems.append(f"{path}: no type")
    if "format" in node and node["format"] not in FORMATS:
        problems.append(f"{path}: format {node['format']!r} is not supported")
    if "enum" in node:
        totals["enum"] += len(node["enum"])
        totals["text"] += sum(len(str(value)) for value in node["enum"])
    if "const" in node:
        totals["text"] += len(str(node["const"]))
    if "object" in kinds:
        properties = node.get("properties")
        if properties is None:
            problems.append(f"{path}: an object needs properties")
            properties = {}
        if node.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties must be false")
        if sorted(node.get("required", [])) != sorted(properties):
            problems.append(f"{path}: required must list every property")
        totals["properties"] += len(properties)
        for name, prop in properties.items():
            totals["text"] += len(name)
            _check(prop, f"{path}.{name}", depth + 1, problems, totals)
    if "array" in kinds:
        if "items" not in node:
            problems.append(f"{path}: an array needs items")
        else:
            _check(node["items"], f"{path}[]", depth + 1, problems, totals)
    for index, member in enumerate(node.get("anyOf", [])):
        _check(member, f"{path}|{index}", depth, problems, totals)
