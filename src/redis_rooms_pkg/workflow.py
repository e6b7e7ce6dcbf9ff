"""Run workflow files the way the Rooms AI engine does (local runs, demo).

Two shapes are read. The engine's own: ``entrypoints`` and steps linked by ``next`` lists and
condition objects (``{"if", "then", "else"}``), with ``waitForAll`` joins, ``runLimit`` loops and
``onError``. The seed documentation's: steps without ``next``, run in file order, a string
``condition`` guarding a step. The whole file is checked before the first step runs
(:func:`check`), then :func:`run_workflow` executes it: Redis steps through the addon, the
control-flow builtins for real, other addons' steps from mocks or stubs.
"""

from __future__ import annotations

import difflib
import inspect
import json
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon

TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
CONDITION = re.compile(r"^(?P<left>.+?)\s*(?P<op>==|!=|>=|<=|>|<)\s*(?P<right>.+)$")
REDIS_ADDON_TYPES = {"redis"}
STEP_FIELDS = (
    "id", "name", "description", "action", "parameters", "next", "condition", "onError",
    "runLimit", "waitForAll",
)  # fmt: skip
ENTRYPOINT_FIELDS = ("id", "name", "startAt", "guards")
CONTINUE = "continue-workflow"  # the onError action that lets a run go on after a failed step
RESERVED = ("payload", "context", "loop_item", "loop_index")  # template names that are not steps
MAX_RUNS_WITHOUT_LIMIT = 100  # times a step without runLimit may run in one run (a loop guard)
MAX_STEPS_PER_RUN = 10_000  # steps one run may execute in all
MAX_REAL_DELAY = 60.0  # s: the longest builtin::delay actually waited with real_delays


class WorkflowError(ValueError):
    """A workflow file that cannot run as written; the message says what to fix."""


class WorkflowCheckError(WorkflowError):
    """Every problem the check found in a workflow file, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(
            f"the workflow cannot run as written ({count}; nothing ran):\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )


class StepResult(BaseModel):
    """One step as the run saw it."""

    id: str
    action: str
    status: str = Field(description='"ok", "failed", "skipped", "mocked" or "stubbed"')
    code: int | None = None
    message: str | None = None
    output: dict[str, Any] | None = None
    target: str | None = Field(default=None, description="Where a Redis step's data went")


@dataclass(frozen=True)
class NoOutput:
    """Stands in the template context for a step that ran no action, saying why."""

    reason: str


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def action_signature(name: str) -> inspect.Signature:
    """The parameters of an action, read from its ``RedisRoomsAddon`` method (as agents do)."""
    method = getattr(RedisRoomsAddon, name, None) if name in CATALOGUE else None
    if method is None:
        known = sorted(n for n in CATALOGUE if hasattr(RedisRoomsAddon, n))
        raise WorkflowError(
            f"unknown action {name!r}{did_you_mean(name, known)}; known actions: {', '.join(known)}"
        )
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    return inspect.Signature(parameters)


# --- templates and conditions ------------------------------------------------------------------


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
        if head in ("loop_item", "loop_index"):
            raise WorkflowError(f"template {{{{{path}}}}}: there is no loop (a logic::loop step)")
        raise WorkflowError(
            f"template {{{{{path}}}}}: no payload or earlier step named {head!r} "
            "(templates read payload.<field>, context.<name> and <step id>.output.<field> of "
            "steps already run)"
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


def template_paths(value: Any) -> Iterator[str]:
    """Every ``{{path}}`` in a value, nested objects and lists included."""
    if isinstance(value, dict):
        for item in value.values():
            yield from template_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from template_paths(item)
    elif isinstance(value, str):
        yield from (match.group(1) for match in TEMPLATE.finditer(value))


# --- the file ----------------------------------------------------------------------------------


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


def is_engine_format(workflow: Mapping[str, Any]) -> bool:
    """The engine's graph shape: entrypoints, or a step with ``next`` or a condition object.

    Anything else is the seed's shape: steps in file order, string conditions as guards.
    """
    if "entrypoints" in workflow:
        return True
    return any(
        "next" in step or isinstance(step.get("condition"), dict) for step in steps_of(workflow)
    )


# --- the check ---------------------------------------------------------------------------------

# The builtins the runner executes itself, with the parameters each needs.
BUILTINS: dict[str, tuple[str, ...]] = {
    "builtin::log": ("message",),
    "builtin::transform": ("rules",),
    "builtin::delay": ("seconds",),
    "builtin::context_set": ("name",),
    "builtin::context_get": ("name",),
    "logic::if": ("condition",),
    "logic::loop": ("items",),
}


@dataclass
class Flow:
    """A checked workflow: its steps by id (file order) and how a run walks them."""

    steps: dict[str, dict[str, Any]]
    engine: bool  # the engine's graph shape (else the seed's file order)
    start: str | None = None  # engine shape: the step the entrypoint starts at
    entrypoint: str | None = None
    redis_ids: frozenset[str] = frozenset()
    mocks: dict[str, dict[str, Any]] = field(default_factory=dict)  # action -> output
    stubs: dict[str, dict[str, Any]] = field(default_factory=dict)  # step id -> output
    notes: list[str] = field(default_factory=list)  # worth knowing, not stopping the run

    def successors(self, step_id: str) -> list[str]:
        """The steps that may follow ``step_id``: its ``next`` list, or its condition's targets."""
        step = self.steps[step_id]
        condition = step.get("condition")
        if isinstance(condition, dict):
            targets = [condition.get("then"), condition.get("else")]
        else:
            targets = step.get("next") if isinstance(step.get("next"), list) else []
        return [t for t in targets if isinstance(t, str) and t in self.steps]

    def predecessors(self, step_id: str) -> set[str]:
        return {other for other in self.steps if step_id in self.successors(other)}

    def reachable(self, sources: Collection[str], avoid: str | None = None) -> set[str]:
        """Steps reachable from ``sources`` (themselves included), not walking through ``avoid``."""
        seen = set(sources)
        todo = deque(s for s in sources if s != avoid)
        while todo:
            for target in self.successors(todo.popleft()):
                if target not in seen:
                    seen.add(target)
                    if target != avoid:
                        todo.append(target)
        return seen

    def kind(self, step_id: str) -> str:
        """``redis``, ``builtin`` (run by the runner) or ``other`` (mocked, stubbed or skipped)."""
        action = str(self.steps[step_id].get("action", ""))
        if action.partition("::")[0] in self.redis_ids:
            return "redis"
        return "builtin" if action in BUILTINS else "other"

    def provided(self, step_id: str) -> bool:
        """Whether a step of another addon gets an output (mock or stub) for later steps."""
        action = str(self.steps[step_id].get("action", ""))
        return step_id in self.stubs or action in self.mocks


def _unknown_fields(
    where: str, given: Collection[str], known: Collection[str], problems: list[str]
) -> None:
    for name in sorted(set(given) - set(known)):
        problems.append(
            f"{where}: unknown field {name!r}{did_you_mean(name, known)}; "
            f"known fields: {', '.join(known)}"
        )


def _step_id_problem(where: str, target: Any, steps: Collection[str]) -> str | None:
    if not isinstance(target, str):
        return f"{where} must be a step id (a string), not {json.dumps(target)}"
    if target not in steps:
        return f"{where} names unknown step {target!r}{did_you_mean(target, steps)}"
    return None


def _choose_entrypoint(
    workflow: Mapping[str, Any], flow: Flow, wanted: str | None, problems: list[str]
) -> None:
    entrypoints = workflow.get("entrypoints")
    first_step = next(iter(flow.steps))
    if entrypoints is None:
        if wanted is not None:
            problems.append(f'entrypoint {wanted!r}: the file has no "entrypoints"')
        flow.start = first_step
        if flow.engine:
            flow.notes.append(f'no "entrypoints": the run starts at the first step, {first_step!r}')
        return
    if (
        not isinstance(entrypoints, list)
        or not entrypoints
        or not all(isinstance(e, dict) for e in entrypoints)
    ):
        problems.append('"entrypoints" must be a non-empty list of {"id", "name", "startAt"}')
        return
    for number, entry in enumerate(entrypoints, 1):
        _unknown_fields(f"entrypoint {number}", entry, ENTRYPOINT_FIELDS, problems)
    ids = [str(entry.get("id")) for entry in entrypoints]
    if wanted is not None and wanted not in ids:
        problems.append(
            f"no entrypoint {wanted!r}{did_you_mean(wanted, ids)}; entrypoints: {', '.join(ids)}"
        )
        return
    chosen = wanted or ("default" if "default" in ids else ids[0])
    entry = entrypoints[ids.index(chosen)]
    flow.entrypoint = chosen
    problem = _step_id_problem(f"entrypoint {chosen!r}: startAt", entry.get("startAt"), flow.steps)
    if problem:
        problems.append(problem)
    else:
        flow.start = entry["startAt"]
    if entry.get("guards"):
        flow.notes.append(f"entrypoint {chosen!r}: guards are not evaluated by the local runner")


def _check_links(step: dict[str, Any], flow: Flow, problems: list[str]) -> None:
    """``next``, ``condition``, ``onError``, ``runLimit`` and ``waitForAll`` of one step."""
    where = f"step {step['id']!r}"
    if "next" in step:
        targets = step["next"]
        if isinstance(targets, str):
            problems.append(
                f'{where}: "next" is a list of step ids in the engine\'s format: '
                f'write "next": [{json.dumps(targets)}]'
            )
        elif not isinstance(targets, list):
            problems.append(f'{where}: "next" must be a list of step ids')
        else:
            for target in targets:
                problem = _step_id_problem(f'{where}: "next"', target, flow.steps)
                if problem:
                    problems.append(problem)
    condition = step.get("condition")
    if isinstance(condition, dict):
        _unknown_fields(f"{where}: condition", condition, ("if", "then", "else"), problems)
        if not isinstance(condition.get("if"), str) or not condition["if"].strip():
            problems.append(f'{where}: a condition object needs "if": "<expression>"')
        for branch in ("then", "else"):
            if condition.get(branch) is not None:
                problem = _step_id_problem(
                    f"{where}: condition {branch!r}", condition[branch], flow.steps
                )
                if problem:
                    problems.append(problem)
        if "next" in step:
            problems.append(
                f'{where}: has both "next" and a condition object; the condition\'s "then" and '
                '"else" say what comes next: remove "next"'
            )
    elif condition is not None and not isinstance(condition, str):
        problems.append(
            f'{where}: "condition" is a string (a guard) or {{"if", "then", "else"}}, '
            f"not {json.dumps(condition)}"
        )
    on_error = step.get("onError")
    if on_error is not None and (
        not isinstance(on_error, dict) or on_error.get("action") != CONTINUE
    ):
        problems.append(
            f'{where}: "onError" must be {{"action": "{CONTINUE}"}} (the one the runner knows); '
            "without it a failed step stops the run"
        )
    limit = step.get("runLimit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        problems.append(f'{where}: "runLimit" must be a whole number of runs, 1 or more')
    if "waitForAll" in step and not isinstance(step["waitForAll"], bool):
        problems.append(f'{where}: "waitForAll" must be true or false')


def _check_action(step: dict[str, Any], flow: Flow, problems: list[str]) -> None:
    """A Redis step names a known action and its parameters; a builtin has what it needs."""
    where, action = f"step {step['id']!r}", step.get("action")
    if not isinstance(action, str) or "::" not in action:
        problems.append(f'{where}: "action" must read "<addon id>::<action>"')
        return
    parameters = step.get("parameters", {})
    if not isinstance(parameters, dict):
        problems.append(f'{where}: "parameters" must be an object')
        return
    kind = flow.kind(step["id"])
    if kind == "builtin":
        missing = [p for p in BUILTINS[action] if p not in parameters]
        if missing:
            problems.append(f"{where}: {action} needs parameter(s) {', '.join(map(repr, missing))}")
        return
    if kind != "redis":
        return
    name = action.partition("::")[2]
    try:
        accepted = action_signature(name).parameters
    except WorkflowError as exc:
        problems.append(f"{where}: {exc}")
        return
    for unknown in sorted(set(parameters) - set(accepted)):
        problems.append(
            f"{where}: {name} takes no parameter {unknown!r}{did_you_mean(unknown, accepted)}; "
            f"its parameters are: {', '.join(accepted)}"
        )
    missing = [
        p for p, spec in accepted.items() if spec.default is spec.empty and p not in parameters
    ]
    if missing:
        problems.append(f"{where}: {name} needs parameter(s) {', '.join(map(repr, missing))}")


def _before(flow: Flow, reached: set[str]) -> dict[str, set[str]]:
    """For each step, the steps that can have run before it in one run."""
    ids = list(flow.steps)
    if not flow.engine:
        return {step_id: set(ids[:index]) for index, step_id in enumerate(ids)}
    before: dict[str, set[str]] = {}
    for step_id in reached:
        # steps on a path from the entrypoint that lead to step_id (itself only through a loop)
        before[step_id] = {
            other for other in reached if step_id in flow.reachable(flow.successors(other))
        }
    return before


def _check_templates(
    step: dict[str, Any], flow: Flow, before: set[str] | None, problems: list[str]
) -> None:
    """Templates name the payload, context, a loop, or a step that can have run before."""
    where = f"step {step['id']!r}"
    condition = step.get("condition")
    own = list(template_paths(step.get("parameters")))
    if isinstance(condition, str):
        own += template_paths(condition)
    after = list(template_paths(condition.get("if"))) if isinstance(condition, dict) else []
    reported: set[str] = set()
    for path, allowed in [(p, before) for p in own] + [
        (p, None if before is None else before | {step["id"]}) for p in after
    ]:
        head, _, rest = path.partition(".")
        if head in RESERVED:
            continue
        if head not in flow.steps:
            choices = [*flow.steps, *RESERVED]
            problems.append(
                f"{where}: template {{{{{path}}}}} names no step or payload"
                f"{did_you_mean(head, choices)}"
            )
            continue
        if rest != "output" and not rest.startswith("output."):
            problems.append(
                f"{where}: template {{{{{path}}}}}: a step's values are read as "
                f"{{{{{head}.output.<field>}}}}"
            )
        elif allowed is not None and head not in allowed:
            problems.append(
                f"{where}: template {{{{{path}}}}} reads step {head!r}, which cannot have run "
                f"before {step['id']!r}"
                + (
                    " (it comes later in the file)"
                    if not flow.engine
                    else " (no path leads from it here)"
                )
            )
        elif allowed is None:
            continue  # a step the run never reaches
        elif flow.kind(head) == "other" and not flow.provided(head) and head not in reported:
            reported.add(head)
            action = flow.steps[head].get("action")
            problems.append(
                f"{where}: template {{{{{path}}}}} reads step {head!r} ({action}), which is not a "
                f'Redis step and gets no output: add "{action}": {{"mock_response": {{...}}}} to '
                f"the --mock-config file, or give --stub {head}=JSON"
            )


def _check_outputs_given(flow: Flow, problems: list[str]) -> None:
    """Stubs name steps of other addons; mocks do not replace steps that run for real."""
    for step_id in flow.stubs:
        if step_id not in flow.steps:
            problems.append(
                f"--stub {step_id}: the workflow has no step {step_id!r}"
                f"{did_you_mean(step_id, flow.steps)}"
            )
        elif flow.kind(step_id) != "other":
            problems.append(
                f"--stub {step_id}: a {'Redis' if flow.kind(step_id) == 'redis' else 'builtin'} "
                "step runs for real and cannot be stubbed"
            )
    for action in flow.mocks:
        if action.partition("::")[0] in flow.redis_ids or action in BUILTINS:
            problems.append(
                f"mock {action!r}: this action runs for real in the local runner; remove the mock"
            )


def check(
    workflow: Mapping[str, Any],
    *,
    redis_ids: Collection[str] = (),
    entrypoint: str | None = None,
    mocks: Mapping[str, Mapping[str, Any]] | None = None,
    stubs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Flow:
    """The checked :class:`Flow` of a workflow file; every problem at once otherwise.

    Checked: step fields, ``next`` / ``then`` / ``else`` / ``startAt`` targets, each Redis
    step's action and parameters, templates (a step can only read steps that can have run
    before it; a step of another addon only when a mock or stub gives its output), mocks and
    stubs. Raises :class:`WorkflowCheckError` naming each problem, with a "did you mean".
    """
    steps = steps_of(workflow)
    flow = Flow(
        steps={step["id"]: step for step in steps},
        engine=is_engine_format(workflow),
        redis_ids=frozenset(redis_ids),
        mocks={k: dict(v) for k, v in (mocks or {}).items()},
        stubs={k: dict(v) for k, v in (stubs or {}).items()},
    )
    problems: list[str] = []
    for step_id in flow.steps:
        if step_id in RESERVED:
            problems.append(f"step id {step_id!r} is a template name ({', '.join(RESERVED)})")
    _choose_entrypoint(workflow, flow, entrypoint, problems)
    for step in steps:
        _unknown_fields(f"step {step['id']!r}", step, STEP_FIELDS, problems)
        _check_links(step, flow, problems)
        _check_action(step, flow, problems)
    reached = flow.reachable([flow.start]) if flow.engine and flow.start else set(flow.steps)
    before = _before(flow, reached)
    for step in steps:
        _check_templates(step, flow, before.get(step["id"]), problems)
    _check_outputs_given(flow, problems)
    if flow.engine and flow.start:
        unreached = [step_id for step_id in flow.steps if step_id not in reached]
        if unreached:
            flow.notes.append(
                f"not reached from {flow.start!r}, so never run: {', '.join(unreached)}"
            )
    if problems:
        raise WorkflowCheckError(problems)
    return flow


# --- the run -----------------------------------------------------------------------------------


@dataclass
class _Loop:
    """A ``logic::loop``: its items, and the steps whose each start takes the next item."""

    step_id: str
    items: list[Any]
    body: set[str]
    index: int = -1


class _Run:
    """One run of a checked flow; each executed step reported through ``on_step``."""

    def __init__(
        self,
        flow: Flow,
        payload: Mapping[str, Any] | None,
        addons: Mapping[str, RedisRoomsAddon],
        on_step: Callable[[StepResult], None] | None,
        real_delays: bool,
    ) -> None:
        self.flow, self.addons, self.on_step, self.real_delays = flow, addons, on_step, real_delays
        self.context: dict[str, Any] = {
            step_id: NoOutput("it has not run in this run") for step_id in flow.steps
        }
        self.context["payload"] = dict(payload or {})
        self.context["context"] = {}
        self.results: list[StepResult] = []
        self.runs: Counter[str] = Counter()
        self.loop: _Loop | None = None
        self.stopped = False

    # reporting

    def _remember(self, result: StepResult) -> None:
        if result.output is not None:
            self.context[result.id] = {"output": result.output}
        else:
            self.context[result.id] = NoOutput(f"it was {result.status} ({result.message})")

    def _report(self, result: StepResult) -> None:
        self.results.append(result)
        if self.on_step:
            self.on_step(result)

    # walking the file

    def execute(self) -> list[StepResult]:
        if self.flow.engine:
            self._walk_graph()
        else:
            for step_id in self.flow.steps:
                self._visit(step_id)
                if self.stopped:
                    break
        return self.results

    def _walk_graph(self) -> None:
        """Follow ``next`` and conditions from the entrypoint; branches run one after another."""
        assert self.flow.start is not None
        queue: deque[tuple[str, str | None]] = deque([(self.flow.start, None)])
        arrived: dict[str, set[str | None]] = {}
        waiting: list[str] = []  # joins (waitForAll) reached by at least one branch
        while not self.stopped:
            ready = next(
                (j for j in waiting if self._join_ready(j, arrived[j], queue, waiting)), None
            )
            if ready is not None:
                waiting.remove(ready)
                del arrived[ready]
                step_id = ready
            elif queue:
                step_id, came_from = queue.popleft()
                if self.flow.steps[step_id].get("waitForAll") and came_from is not None:
                    arrived.setdefault(step_id, set()).add(came_from)
                    if step_id not in waiting:
                        waiting.append(step_id)
                    continue
            elif waiting:  # joins that wait for each other's predecessors: none can ever run
                self._report(
                    StepResult(
                        id=waiting[0],
                        action=str(self.flow.steps[waiting[0]].get("action", "")),
                        status="failed",
                        message=(
                            f"waitForAll: the joins {', '.join(waiting)} wait for each other "
                            "(each has a predecessor that runs only after another); none can run"
                        ),
                    )
                )
                self.stopped = True
                return
            else:
                return
            queue.extend((target, step_id) for target in self._visit(step_id))

    def _join_ready(
        self,
        join: str,
        arrived: set[str | None],
        queue: deque[tuple[str, str | None]],
        waiting: list[str],
    ) -> bool:
        """A join runs once every predecessor has arrived or can no longer run on this path."""
        if any(step_id == join for step_id, _ in queue):
            return False  # an arrival not yet counted
        missing = self.flow.predecessors(join) - arrived
        if not missing:
            return True
        sources = [step_id for step_id, _ in queue] + [w for w in waiting if w != join]
        return not missing & self.flow.reachable(sources, avoid=join)

    def _visit(self, step_id: str) -> list[str]:
        """Run one step (within its limits) and say which steps follow it."""
        step = self.flow.steps[step_id]
        action = str(step.get("action", ""))
        limit = step.get("runLimit")
        if limit is not None and self.runs[step_id] >= limit:
            self._report(
                StepResult(
                    id=step_id,
                    action=action,
                    status="skipped",
                    message=f"runLimit {limit} reached: not run again, this path ends here",
                )
            )
            return []
        total = sum(self.runs.values())
        if limit is None and self.runs[step_id] >= MAX_RUNS_WITHOUT_LIMIT:
            stopped = (
                f"stopped: the step ran {self.runs[step_id]} times and has no runLimit; a loop "
                'without an end would never finish: give the step a "runLimit"'
            )
        elif total >= MAX_STEPS_PER_RUN:
            stopped = f"stopped: {total} steps ran in this run; lower the runLimit of its loops"
        else:
            stopped = None
        if stopped:
            self._report(StepResult(id=step_id, action=action, status="failed", message=stopped))
            self.stopped = True
            return []
        self.runs[step_id] += 1
        result = self._execute(step)
        self._remember(result)
        continues = isinstance(step.get("onError"), dict)
        if result.status == "failed" and not continues:
            self._report(result)
            self.stopped = True
            return []
        try:
            targets = self._targets(step) if self.flow.engine else []
        except WorkflowError as exc:
            result = result.model_copy(
                update={"status": "failed", "message": f"its condition cannot be evaluated: {exc}"}
            )
            self.stopped = not continues
            targets = []
        self._report(result)
        return targets

    def _targets(self, step: dict[str, Any]) -> list[str]:
        condition = step.get("condition")
        if isinstance(condition, dict):
            branch = "then" if condition_holds(condition["if"], self.context) else "else"
            target = condition.get(branch)
            return [target] if target else []
        return list(step.get("next") or [])

    # one step

    def _execute(self, step: dict[str, Any]) -> StepResult:
        step_id, action = step["id"], str(step.get("action", ""))

        def done(status: str, **fields: Any) -> StepResult:
            return StepResult(id=step_id, action=action, status=status, **fields)

        try:
            guard = step.get("condition")
            if isinstance(guard, str) and not condition_holds(guard, self.context):
                return done("skipped", message="condition false")
            self._enter_loop(step_id)
            addon_id, _, name = action.partition("::")
            if addon_id in self.flow.redis_ids:
                addon = self.addons[addon_id]
                parameters = render(step.get("parameters") or {}, self.context)
                response = getattr(addon, name)(**parameters)
                output = response.output.model_dump(mode="json") if response.output else None
                ok = response.code is not None and 200 <= response.code < 300
                target = addon.config.describe_target() if addon.config else repr(addon)
                return done(
                    "ok" if ok else "failed",
                    code=response.code,
                    message=response.message,
                    output=output,
                    target=target,
                )
            if step_id in self.flow.stubs:
                return done("stubbed", output=dict(self.flow.stubs[step_id]))
            if action in self.flow.mocks:
                return done("mocked", code=200, output=dict(self.flow.mocks[action]))
            if action in BUILTINS:
                return done("ok", code=200, output=self._builtin(step, action))
        except WorkflowError as exc:
            return done("failed", message=str(exc))
        return done(
            "skipped",
            message=(
                f"not a Redis step: its output is unknown here (give it with --mock-config "
                f'"{action}" or --stub {step_id}=JSON)'
            ),
        )

    def _enter_loop(self, step_id: str) -> None:
        loop = self.loop
        if loop is None or step_id not in loop.body:
            return
        loop.index += 1
        if loop.index >= len(loop.items):
            raise WorkflowError(
                f"the loop of {loop.step_id!r} has {len(loop.items)} item(s) and this is run "
                f"{loop.index + 1}: end the loop with a condition on {{{{loop_index}}}}"
            )
        self.context["loop_item"] = loop.items[loop.index]
        self.context["loop_index"] = loop.index

    def _builtin(self, step: dict[str, Any], action: str) -> dict[str, Any]:
        """The builtins the runner simulates; each returns the step's output."""
        raw = step.get("parameters") or {}
        if action == "logic::if":  # the expression is evaluated, not rendered to text first
            return {"condition_met": condition_holds(str(raw["condition"]), self.context)}
        parameters = render(raw, self.context)
        if action == "builtin::transform":
            return {"transformed": parameters["rules"]}
        if action == "builtin::log":
            return {
                "logged": True,
                "message": parameters["message"],
                "level": parameters.get("level", "info"),
            }
        if action == "builtin::delay":
            seconds = parameters["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise WorkflowError(
                    f"builtin::delay: seconds must be a number >= 0, not {seconds!r}"
                )
            if self.real_delays:
                time.sleep(min(float(seconds), MAX_REAL_DELAY))
            return {"delayed": True, "seconds": seconds, "waited": self.real_delays}
        if action == "builtin::context_set":
            self.context["context"][str(parameters["name"])] = parameters.get("value")
            return {"name": parameters["name"], "value": parameters.get("value")}
        if action == "builtin::context_get":
            name = str(parameters["name"])
            found = name in self.context["context"]
            return {"name": name, "value": self.context["context"].get(name), "found": found}
        # logic::loop
        items = parameters["items"]
        if not isinstance(items, list):
            raise WorkflowError(f"logic::loop: items must be a list, not {type(items).__name__}")
        self.loop = _Loop(step["id"], items, set(self.flow.successors(step["id"])))
        return {"items": items, "count": len(items)}


def run_flow(
    flow: Flow,
    payload: Mapping[str, Any] | None = None,
    *,
    addons: Mapping[str, RedisRoomsAddon],
    on_step: Callable[[StepResult], None] | None = None,
    real_delays: bool = False,
) -> list[StepResult]:
    """Execute a checked flow; ``addons`` by id (every id in ``flow.redis_ids``)."""
    return _Run(flow, payload, addons, on_step, real_delays).execute()


def run_workflow(
    workflow: Mapping[str, Any],
    payload: Mapping[str, Any] | None = None,
    *,
    addons: Mapping[str, RedisRoomsAddon],
    stubs: Mapping[str, Mapping[str, Any]] | None = None,
    mocks: Mapping[str, Mapping[str, Any]] | None = None,
    entrypoint: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
    real_delays: bool = False,
) -> list[StepResult]:
    """Check ``workflow`` (see :func:`check`), then run it with Redis steps on ``addons``.

    A failed step stops the run unless it says ``"onError": {"action": "continue-workflow"}``.
    ``mocks`` maps ``"<addon id>::<action>"`` to the output such steps get; ``stubs`` maps a
    step id to its output. Other addons' steps without either are "skipped".
    """
    flow = check(workflow, redis_ids=addons.keys(), entrypoint=entrypoint, mocks=mocks, stubs=stubs)
    return run_flow(flow, payload, addons=addons, on_step=on_step, real_delays=real_delays)
