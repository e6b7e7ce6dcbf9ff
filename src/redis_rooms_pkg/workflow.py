"""Run a workflow file's Redis steps the way the Rooms AI engine calls them (local runs, demo)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon

TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
CONDITION = re.compile(r"^(?P<left>.+?)\s*(?P<op>==|!=|>=|<=|>|<)\s*(?P<right>.+)$")
REDIS_ADDON_TYPES = {"redis"}
MAX_STEPS = 1000  # steps one run may execute: a bound on loops through "next"


class WorkflowError(ValueError):
    """A workflow file that cannot run as written; the message says what to fix."""


class StepResult(BaseModel):
    """One step as the run saw it."""

    id: str
    action: str
    status: str = Field(description='"ok", "failed", "skipped" or "stubbed"')
    code: int | None = None
    message: str | None = None
    output: dict[str, Any] | None = None


def resolve(path: str, context: Mapping[str, Any]) -> Any:
    """The value at a dotted path such as ``payload.user_id`` or ``check-cache.output.found``."""
    head, *rest = path.split(".")
    if head not in context:
        raise WorkflowError(f"template {{{{{path}}}}}: nothing named {head!r} (no such step yet)")
    value = context[head]
    for part in rest:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise WorkflowError(f"template {{{{{path}}}}}: {part!r} not found")
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Fill templates in a parameter; a string that is one whole template keeps the value's type."""
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    if not isinstance(value, str):
        return value
    whole = TEMPLATE.fullmatch(value.strip())
    if whole:
        return resolve(whole.group(1), context)
    return TEMPLATE.sub(lambda m: _as_text(resolve(m.group(1), context)), value)


def _operand(text: str, context: Mapping[str, Any]) -> Any:
    """A condition operand: a whole template keeps its value; a literal reads as JSON if it can."""
    text = text.strip()
    whole = TEMPLATE.fullmatch(text)
    if whole:
        return resolve(whole.group(1), context)
    literal = render(text, context)
    try:
        return json.loads(literal)
    except ValueError:
        return literal.strip("'")


def condition_holds(condition: str | None, context: Mapping[str, Any]) -> bool:
    """Evaluate ``{{a.b}} == false``, ``!=``, ``<``... or a lone template (its truthiness)."""
    if condition is None or not str(condition).strip():
        return True
    match = CONDITION.match(str(condition).strip())
    if not match:
        return bool(_operand(condition, context))
    left, right = _operand(match["left"], context), _operand(match["right"], context)
    op = match["op"]
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    try:
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    except TypeError as exc:
        raise WorkflowError(f"condition {condition!r} compares values that have no order") from exc


def steps_of(workflow: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The step list, top-level or under ``workflow``."""
    steps = workflow.get("steps")
    if steps is None and isinstance(workflow.get("workflow"), Mapping):
        steps = workflow["workflow"].get("steps")
    if not isinstance(steps, list) or not steps:
        raise WorkflowError('the workflow has no "steps" list (top-level or under "workflow")')
    ids = [step.get("id") for step in steps if isinstance(step, dict)]
    if len(ids) != len(steps) or not all(isinstance(i, str) and i for i in ids):
        raise WorkflowError('every step must be an object with a non-empty string "id"')
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise WorkflowError(f"step id(s) used twice: {', '.join(duplicates)}")
    return steps


def redis_addon_entries(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The workflow's Redis addon entries by id."""
    addons = workflow.get("addons") or []
    return {
        entry["id"]: entry
        for entry in addons
        if isinstance(entry, dict) and entry.get("type") in REDIS_ADDON_TYPES and "id" in entry
    }


def _order(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Steps in file order, or following ``next`` where a step names one."""
    by_id = {step["id"]: step for step in steps}
    for step in steps:
        target = step.get("next")
        if target is not None and target not in by_id:
            raise WorkflowError(f"step {step['id']!r}: next names unknown step {target!r}")
    index, executed = 0, 0
    while index < len(steps):
        step = steps[index]
        executed += 1
        if executed > MAX_STEPS:
            raise WorkflowError(f"more than {MAX_STEPS} steps executed: a cycle through next?")
        yield step
        target = step.get("next")
        index = steps.index(by_id[target]) if target else index + 1


def run_workflow(
    workflow: Mapping[str, Any],
    payload: Mapping[str, Any] | None = None,
    *,
    addons: Mapping[str, RedisRoomsAddon],
    stubs: Mapping[str, Mapping[str, Any]] | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Execute the Redis steps of ``workflow`` through ``addons`` (by addon id), in order.

    Steps of other addons are "skipped" unless ``stubs`` gives their output ("stubbed").
    """
    context: dict[str, Any] = {"payload": dict(payload or {})}
    stubs = stubs or {}
    results: list[StepResult] = []
    for step in _order(steps_of(workflow)):
        result = _run_step(step, context, addons, stubs)
        if result.output is not None:
            context[step["id"]] = {"output": result.output}
        results.append(result)
        if on_step:
            on_step(result)
    return results


def _run_step(
    step: dict[str, Any],
    context: Mapping[str, Any],
    addons: Mapping[str, RedisRoomsAddon],
    stubs: Mapping[str, Mapping[str, Any]],
) -> StepResult:
    step_id, action = step["id"], str(step.get("action", ""))
    if not condition_holds(step.get("condition"), context):
        return StepResult(id=step_id, action=action, status="skipped", message="condition false")
    addon_id, _, name = action.partition("::")
    if addon_id not in addons:
        if step_id in stubs:
            return StepResult(
                id=step_id, action=action, status="stubbed", output=dict(stubs[step_id])
            )
        return StepResult(
            id=step_id, action=action, status="skipped", message="not a Redis addon step"
        )
    if name not in CATALOGUE:
        raise WorkflowError(
            f"step {step_id!r}: unknown action {name!r}; known: {', '.join(sorted(CATALOGUE))}"
        )
    parameters = render(step.get("parameters") or {}, context)
    if not isinstance(parameters, dict):
        raise WorkflowError(f'step {step_id!r}: "parameters" must be an object')
    try:
        response = getattr(addons[addon_id], name)(**parameters)
    except TypeError as exc:
        raise WorkflowError(f"step {step_id!r}: {exc}") from exc
    output = response.output.model_dump() if response.output is not None else None
    ok = response.code is not None and 200 <= response.code < 300
    return StepResult(
        id=step_id,
        action=action,
        status="ok" if ok else "failed",
        code=response.code,
        message=response.message,
        output=output,
    )
