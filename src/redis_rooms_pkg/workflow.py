"""Run a workflow file's Redis steps the way the Rooms AI engine calls them (local runs, demo)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon

TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
CONDITION = re.compile(r"^(?P<left>.+?)\s*(?P<op>==|!=|>=|<=|>|<)\s*(?P<right>.+)$")
REDIS_ADDON_TYPES = {"redis"}


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


@dataclass(frozen=True)
class NoOutput:
    """Stands in the template context for a step that ran no action, saying why."""

    reason: str


def action_signature(name: str) -> inspect.Signature:
    """The parameters of an action, read from its ``RedisRoomsAddon`` method (as agents do)."""
    method = getattr(RedisRoomsAddon, name, None) if name in CATALOGUE else None
    if method is None:
        known = ", ".join(sorted(n for n in CATALOGUE if hasattr(RedisRoomsAddon, n)))
        raise WorkflowError(f"unknown action {name!r}; known actions: {known}")
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    return inspect.Signature(parameters)


def _keys_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"it has: {', '.join(map(str, value)) or 'no fields'}"
    if isinstance(value, list):
        return f"it is a list of {len(value)} item(s)"
    return f"it is a {type(value).__name__}, not an object"


def resolve(path: str, context: Mapping[str, Any]) -> Any:
    """The value at a dotted path such as ``payload.user_id`` or ``check-cache.output.found``."""
    head, *rest = path.split(".")
    if head not in context:
        raise WorkflowError(
            f"template {{{{{path}}}}}: no payload or earlier step named {head!r} "
            "(templates read payload.<field> and <step id>.output.<field> of steps already run)"
        )
    value = context[head]
    if isinstance(value, NoOutput):
        raise WorkflowError(f"template {{{{{path}}}}}: step {head!r} has no output: {value.reason}")
    walked = head
    for part in rest:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise WorkflowError(
                f"template {{{{{path}}}}}: {part!r} not found in {walked} ({_keys_of(value)})"
            )
        walked = f"{walked}.{part}"
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
    if not isinstance(workflow, Mapping):
        raise WorkflowError('a workflow file holds a JSON object with a "steps" list')
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


def addon_entries(workflow: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The workflow's ``addons`` list (empty when it declares none)."""
    addons = workflow.get("addons") if isinstance(workflow, Mapping) else None
    if addons is None:
        return []
    if not isinstance(addons, list) or not all(isinstance(entry, dict) for entry in addons):
        raise WorkflowError('"addons" must be a list of addon objects')
    return addons


def redis_addon_entries(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The workflow's Redis addon entries by id."""
    return {
        entry["id"]: entry
        for entry in addon_entries(workflow)
        if entry.get("type") in REDIS_ADDON_TYPES and "id" in entry
    }


def undeclared_redis_ids(workflow: Mapping[str, Any]) -> list[str]:
    """Addon ids that steps use with a Redis action but that no ``addons`` entry declares."""
    declared = {entry.get("id") for entry in addon_entries(workflow)}
    used = []
    for step in steps_of(workflow):
        addon_id, sep, name = str(step.get("action", "")).partition("::")
        if sep and name in CATALOGUE and addon_id not in declared and addon_id not in used:
            used.append(addon_id)
    return used


def _check_redis_step(step: dict[str, Any]) -> None:
    """A Redis step names a known action and only parameters that action takes."""
    name = str(step.get("action", "")).partition("::")[2]
    try:
        signature = action_signature(name)
    except WorkflowError as exc:
        raise WorkflowError(f"step {step['id']!r}: {exc}") from None
    parameters = step.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise WorkflowError(f'step {step["id"]!r}: "parameters" must be an object')
    accepted = signature.parameters
    unknown = sorted(set(parameters) - set(accepted))
    if unknown:
        raise WorkflowError(
            f"step {step['id']!r}: {name} takes no parameter(s) {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(accepted)}"
        )
    missing = [
        p for p, spec in accepted.items() if spec.default is spec.empty and p not in parameters
    ]
    if missing:
        raise WorkflowError(
            f"step {step['id']!r}: {name} needs parameter(s) {', '.join(map(repr, missing))}"
        )


def plan(workflow: Mapping[str, Any], redis_ids: Collection[str]) -> list[dict[str, Any]]:
    """The steps a run executes, in order, after checking the whole file.

    Steps run in file order, except that a step naming ``next`` is followed by that step. Every
    ``next`` must name a step, a chain of ``next`` must not loop (a run would never end), and every
    step of a Redis addon (``redis_ids``) must name a known action with parameters it takes.
    Nothing runs when any of this is wrong.
    """
    steps = steps_of(workflow)
    by_id = {step["id"]: index for index, step in enumerate(steps)}
    for step in steps:
        target = step.get("next")
        if target is not None and not isinstance(target, str):
            raise WorkflowError(f'step {step["id"]!r}: "next" must be a step id (a string)')
        if target is not None and target not in by_id:
            raise WorkflowError(
                f"step {step['id']!r}: next names unknown step {target!r}; "
                f"steps are: {', '.join(by_id)}"
            )
        if str(step.get("action", "")).partition("::")[0] in redis_ids:
            _check_redis_step(step)
    path: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    index = 0
    while index < len(steps):
        step = steps[index]
        if step["id"] in seen:
            loop = [s["id"] for s in path[seen[step["id"]] :]] + [step["id"]]
            raise WorkflowError(
                f"steps form a cycle through next: {' -> '.join(loop)}; a run would never end "
                "(remove or change one of these next fields)"
            )
        seen[step["id"]] = len(path)
        path.append(step)
        target = step.get("next")
        index = by_id[target] if target else index + 1
    return path


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
    The whole file is checked first (see :func:`plan`); a :class:`WorkflowError` stops the run.
    """
    context: dict[str, Any] = {"payload": dict(payload or {})}
    stubs = stubs or {}
    results: list[StepResult] = []
    for step in plan(workflow, addons.keys()):
        result = _run_step(step, context, addons, stubs)
        if result.output is not None:
            context[step["id"]] = {"output": result.output}
        else:
            context[step["id"]] = NoOutput(f"it was {result.status} ({result.message})")
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
            id=step_id,
            action=action,
            status="skipped",
            message=f"not a Redis addon step (give its output with --stub {step_id}=JSON)",
        )
    parameters = render(step.get("parameters") or {}, context)
    response = getattr(addons[addon_id], name)(**parameters)
    output = response.output.model_dump(mode="json") if response.output is not None else None
    ok = response.code is not None and 200 <= response.code < 300
    return StepResult(
        id=step_id,
        action=action,
        status="ok" if ok else "failed",
        code=response.code,
        message=response.message,
        output=output,
    )
