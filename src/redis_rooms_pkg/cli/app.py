"""The `redis-rooms` commands: run workflows locally, call actions, check connections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from loguru import logger
from rich.console import Console
from rich.table import Table
from rich.text import Text

from redis_rooms_pkg import __version__, workflow
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.cli import inputs
from redis_rooms_pkg.cli.check import StageResult, run_check
from redis_rooms_pkg.cli.inputs import InputError
from redis_rooms_pkg.cli.reference import type_words
from redis_rooms_pkg.workflow import (
    Flow,
    StepResult,
    WorkflowCheckError,
    WorkflowError,
    action_signature,
    did_you_mean,
    run_flow,
    steps_of,
)

EXIT_FAILED = 1  # a step, an action or a check stage failed
EXIT_BAD_INPUT = 2  # the command could not start: a file, an option or a value is wrong

app = typer.Typer(
    name="redis-rooms",
    help="Try Redis workflow steps locally, call the addon's actions, diagnose connections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

AddonConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--addon-config",
        help="JSON file with the addon entry (or a list of entries, or a workflow's addons)",
        show_default=False,
    ),
]
AddonIdOption = Annotated[
    str | None,
    typer.Option("--addon-id", help="Which entry of --addon-config to use", show_default=False),
]
EnvFileOption = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        help="Read secrets (e.g. REDIS_PASSWORD) from this .env file; set variables win",
        show_default=False,
    ),
]
EmbeddedOption = Annotated[
    bool, typer.Option("--embedded", help='Use the in-process Redis (mode "embedded")')
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table")]

STATUS_STYLE = {
    "ok": "green",
    "stubbed": "cyan",
    "mocked": "cyan",
    "skipped": "dim",
    "failed": "bold red",
    "warn": "yellow",
    "fail": "bold red",
    "skip": "dim",
}
STAGE_MARK = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}


@contextmanager
def _input_errors() -> Iterator[None]:
    """Bad files, options and workflows end the command with a message and exit code 2."""
    try:
        yield
    except (InputError, WorkflowError) as exc:
        err.print(Text(f"error: {exc}", style="red"), soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _version(value: bool) -> None:
    if value:
        out.print(Text(f"redis-rooms {__version__}"))
        raise typer.Exit()


@app.callback()
def options(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the addon's own log lines on stderr")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version"),
    ] = False,
) -> None:
    """Try Redis workflow steps locally, call the addon's actions, diagnose connections."""
    if not verbose:
        # The commands report every outcome themselves; the addon's log lines would repeat them.
        logger.disable("redis_rooms_pkg")
        ctx.call_on_close(lambda: logger.enable("redis_rooms_pkg"))


def _close(addons: dict[str, RedisRoomsAddon]) -> None:
    for addon in addons.values():
        addon.close()


# --- run ---------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _steps_table(title: str, results: list[StepResult], caption: str | None = None) -> Table:
    table = Table(
        title=Text(title),
        title_justify="left",
        caption=Text(caption) if caption else None,
        caption_justify="left",
    )
    table.add_column("step", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("output", overflow="fold")
    for result in results:
        if result.output is None or result.status == "failed":
            shown = result.message or ""
        elif result.target is not None:  # a Redis output's message repeats the facts it carries
            shown = _compact({k: v for k, v in result.output.items() if k != "message"})
        else:
            shown = _compact(result.output)
        table.add_row(
            Text(result.id),
            Text(result.action),
            Text(result.status, style=STATUS_STYLE.get(result.status, "")),
            "" if result.code is None else str(result.code),
            Text(shown),
        )
    return table


def _targets(flow: Flow, addons: dict[str, RedisRoomsAddon]) -> str:
    """Where this workflow's Redis steps write: the addon id and its target, never a secret."""
    used = {
        str(step.get("action", "")).partition("::")[0]
        for step_id, step in flow.steps.items()
        if flow.kind(step_id) == "redis"
    }
    if not used:
        return "no Redis steps"
    described = []
    for addon_id in sorted(used):
        config = addons[addon_id].config
        described.append(f"{addon_id} -> {config.describe_target() if config else '?'}")
    return "Redis: " + "; ".join(described)


@app.command()
def run(
    workflow_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[WORKFLOW.json]",
            help="Workflow file: the engine's (entrypoints, next) or the seed's (file order)",
            show_default=False,
        ),
    ] = None,
    entrypoint: Annotated[
        str | None,
        typer.Argument(
            metavar="[ENTRYPOINT]",
            help='Entrypoint id to start at (default: "default", else the first)',
            show_default=False,
        ),
    ] = None,
    payload: Annotated[
        str | None,
        typer.Option("--payload", "-p", help="The payload: a JSON object", show_default=False),
    ] = None,
    payload_file: Annotated[
        Path | None,
        typer.Option(
            "--payload-file", help="Read the payload from a JSON file", show_default=False
        ),
    ] = None,
    mock_config: Annotated[
        Path | None,
        typer.Option(
            "--mock-config",
            metavar="MOCKS.json",
            help='Outputs of other addons\' actions: {"<addon>::<action>": {"mock_response": {}}}',
            show_default=False,
        ),
    ] = None,
    stub: Annotated[
        list[str] | None,
        typer.Option(
            "--stub",
            metavar="STEP_ID=JSON",
            help="Output of one step of another addon (repeatable); later steps can use it",
        ),
    ] = None,
    runs_path: Annotated[
        Path | None,
        typer.Option(
            "--runs",
            metavar="RUNS.json",
            help='Instead of WORKFLOW.json: a list of runs ({"workflow", "entrypoint", '
            '"payload", "mock_config", "stubs"}), one after the other on the same Redis',
            show_default=False,
        ),
    ] = None,
    addon_config: AddonConfigOption = None,
    env_file: EnvFileOption = None,
    embedded: EmbeddedOption = False,
    repeat: Annotated[
        int,
        typer.Option(
            "--repeat",
            min=1,
            max=100,
            help="Run everything this many times on the same addons (e.g. to see a cache hit)",
        ),
    ] = 1,
    real_delays: Annotated[
        bool,
        typer.Option("--real-delays", help="Let builtin::delay steps really wait (up to 60 s)"),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a workflow file as the engine would, Redis steps for real, and print each step."""
    addons: dict[str, RedisRoomsAddon] = {}
    try:
        with _input_errors():
            inputs.load_env_file(env_file)
            runs = _runs(
                workflow_file, entrypoint, runs_path, payload, payload_file, mock_config, stub or []
            )
            for one in runs:
                steps_of(one.workflow)  # each file's own shape first
            overrides = inputs.entries_in(addon_config) if addon_config else []
            addons = inputs.addons_for_workflows(
                [one.workflow for one in runs], overrides, embedded
            )
            flows = _checked(runs, addons)
            failed, total = 0, len(runs) * repeat
            for number, (one, flow) in enumerate(list(zip(runs, flows, strict=True)) * repeat, 1):
                title = one.name + (f" (run {number} of {total})" if total > 1 else "")
                failed += _run_once(title, number, one, flow, addons, as_json, real_delays)
    finally:
        _close(addons)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _checked(runs: list[inputs.Run], addons: dict[str, RedisRoomsAddon]) -> list[Flow]:
    """Every run's file checked before anything runs; all problems of all files at once."""
    flows, problems, notes = [], [], []
    for number, one in enumerate(runs, 1):
        try:
            flow = workflow.check(
                one.workflow,
                redis_ids=addons.keys(),
                entrypoint=one.entrypoint,
                mocks=one.mocks,
                stubs=one.stubs,
            )
        except WorkflowCheckError as exc:
            where = f"run {number} ({one.name}): " if len(runs) > 1 else ""
            problems += [f"{where}{problem}" for problem in exc.problems]
            continue
        flows.append(flow)
        notes += [
            f"{one.name}: {note}" for note in flow.notes if f"{one.name}: {note}" not in notes
        ]
    if problems:
        raise WorkflowCheckError(problems)
    for note in notes:
        err.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    return flows


def _runs(
    workflow_file: Path | None,
    entrypoint: str | None,
    runs_path: Path | None,
    payload: str | None,
    payload_file: Path | None,
    mock_config: Path | None,
    stubs: list[str],
) -> list[inputs.Run]:
    """The runs asked for: one workflow file with its options, or a runs file."""
    if (workflow_file is None) == (runs_path is None):
        raise InputError("give a WORKFLOW.json file, or a runs file with --runs (one of them)")
    if runs_path is not None:
        given = [payload, payload_file, mock_config, entrypoint]
        if any(option is not None for option in given) or stubs:
            raise InputError(
                "--payload, --payload-file, --mock-config, --stub and ENTRYPOINT go with "
                "WORKFLOW.json; in a runs file each run has its own"
            )
        return inputs.runs_file(runs_path)
    assert workflow_file is not None
    if payload is not None and payload_file is not None:
        raise InputError("give the payload with --payload or --payload-file, not both")
    workflow = inputs.read_json(workflow_file, "workflow file")
    data = {}
    if payload is not None:
        data = inputs.json_object(payload, "--payload")
    elif payload_file is not None:
        data = inputs.json_object(f"@{payload_file}", "--payload-file")
    mocks = inputs.mock_config(mock_config) if mock_config else {}
    return [inputs.Run(workflow_file.name, workflow, data, inputs.stubs(stubs), mocks, entrypoint)]


def _run_once(
    title: str,
    number: int,
    one: inputs.Run,
    flow: Flow,
    addons: dict[str, RedisRoomsAddon],
    as_json: bool,
    real_delays: bool,
) -> int:
    """One run of a workflow, printed; the number of failed steps."""
    results: list[StepResult] = []

    def on_step(result: StepResult) -> None:
        results.append(result)
        if as_json:
            line = {"run": number, "workflow": one.name, **result.model_dump(mode="json")}
            typer.echo(json.dumps(line, ensure_ascii=False))

    try:
        run_flow(flow, one.payload, addons=addons, on_step=on_step, real_delays=real_delays)
    finally:
        if not as_json:
            start = f"entrypoint {flow.entrypoint!r} at {flow.start!r}" if flow.entrypoint else None
            facts = [
                start,
                f"payload {_compact(one.payload)}" if one.payload else None,
                _targets(flow, addons),
            ]
            caption = " · ".join(fact for fact in facts if fact)
            out.print(_steps_table(title, results, caption))
    return sum(result.status == "failed" for result in results)


# --- call --------------------------------------------------------------------------------------


def _call_parameters(action: str, pairs: list[str]) -> dict[str, Any]:
    """NAME=TEXT and NAME:=JSON pairs (httpie's convention) checked against the signature."""
    signature = action_signature(action)
    given = inputs.call_values(pairs)
    accepted = signature.parameters
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise InputError(
            "; ".join(
                f"{action} takes no parameter {name!r}{did_you_mean(name, accepted)}"
                for name in unknown
            )
            + f"; its parameters are: {', '.join(accepted)}"
        )
    missing = [p for p, spec in accepted.items() if spec.default is spec.empty and p not in given]
    if missing:
        raise InputError(
            f"{action} needs {', '.join(f'{p}=VALUE' for p in missing)} (see redis-rooms actions)"
        )
    return given


@app.command()
def call(
    action: Annotated[str, typer.Argument(help="Action name, e.g. set_key (see: actions)")],
    parameters: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NAME=TEXT | NAME:=JSON]...",
            help="Parameters as httpie reads them: NAME=TEXT is a string (value=1.50), "
            "NAME:=JSON is JSON (ex:=60, items:='{\"a\":1}'); number parameters accept text",
            show_default=False,
        ),
    ] = None,
    addon_config: AddonConfigOption = None,
    addon_id: AddonIdOption = None,
    env_file: EnvFileOption = None,
    embedded: EmbeddedOption = False,
) -> None:
    """Run one action and print its response as JSON (exit 1 when its code is not 2xx)."""
    with _input_errors():
        inputs.load_env_file(env_file)
        params = _call_parameters(action, parameters or [])
        addon = inputs.single_addon(addon_config, addon_id, embedded)
    with addon:
        response = getattr(addon, action)(**params)
    typer.echo(json.dumps(response.model_dump(mode="json"), indent=2, ensure_ascii=False))
    if response.code is None or not 200 <= response.code < 300:
        raise typer.Exit(EXIT_FAILED)


# --- actions -----------------------------------------------------------------------------------


def catalogue() -> list[dict[str, Any]]:
    """Every action the addon offers, with its parameters as its method declares them."""
    entries = []
    for name, spec in sorted(CATALOGUE.items()):
        if not hasattr(RedisRoomsAddon, name):
            continue
        fields = spec.input.model_fields
        schema = spec.input.model_json_schema()["properties"]
        parameters = [
            {
                "name": param.name,
                "type": type_words(schema[param.name]),
                "required": param.default is param.empty,
                "default": None if param.default is param.empty else param.default,
                "description": fields[param.name].description if param.name in fields else None,
            }
            for param in action_signature(name).parameters.values()
        ]
        entries.append(
            {
                "name": name,
                "read_only": spec.read_only,
                "destructive": spec.destructive,
                "summary": spec.summary,
                "parameters": parameters,
            }
        )
    return entries


def _kind(entry: dict[str, Any]) -> Text:
    if entry["read_only"]:
        return Text("read-only", style="green")
    if entry["destructive"]:
        return Text("destructive", style="red")
    return Text("writes", style="yellow")


def _parameter(param: dict[str, Any]) -> str:
    text = f"{param['name']}: {param['type']}"
    return text if param["required"] else f"{text} = {json.dumps(param['default'])}"


@app.command()
def actions(
    as_json: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/actions.md (the generated reference).")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Print each action as a function tool in OpenAI's strict mode (one JSON object "
            "a line: name, description, parameters, strict).",
        ),
    ] = False,
) -> None:
    """List the actions: what each reads or writes, and its parameters."""
    if strict:
        from redis_rooms_pkg.tool_schema import tool_definitions

        for tool in tool_definitions(strict=True):
            typer.echo(json.dumps(tool, ensure_ascii=False))
        return
    if markdown:
        from redis_rooms_pkg.cli.reference import actions_markdown

        typer.echo(actions_markdown(), nl=False)
        return
    entries = catalogue()
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry, ensure_ascii=False))
        return
    table = Table(title="redis-rooms actions", title_justify="left")
    for column in ("action", "kind", "parameters", "summary"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            Text(entry["name"]),
            _kind(entry),
            Text("\n".join(_parameter(param) for param in entry["parameters"])),
            Text(entry["summary"]),
        )
    out.print(table)


# --- check -------------------------------------------------------------------------------------


def _print_stage(result: StageResult) -> None:
    line = Text()
    line.append(f"{STAGE_MARK[result.status]} ", style=STATUS_STYLE[result.status])
    line.append(f"{result.stage:<8}", style="bold")
    line.append(result.detail)
    out.print(line, soft_wrap=True)
    if result.fix and result.status in ("fail", "warn"):
        out.print(Text(f"  fix: {result.fix}", style=STATUS_STYLE[result.status]), soft_wrap=True)


@app.command()
def check(
    addon_config: AddonConfigOption = None,
    addon_id: AddonIdOption = None,
    env_file: EnvFileOption = None,
    embedded: EmbeddedOption = False,
    as_json: JsonOption = False,
) -> None:
    """Connect as the addon would and report each stage: DNS, TCP, TLS, auth, server, latency."""
    with _input_errors():
        inputs.load_env_file(env_file)
        addon = inputs.single_addon(addon_config, addon_id, embedded)
    assert addon.config is not None  # single_addon returns configured addons
    if not as_json:
        target = f"checking {addon.config.describe_target()} (addon {addon.config.id!r})"
        out.print(Text(target), soft_wrap=True)

    def on_stage(result: StageResult) -> None:
        if as_json:
            typer.echo(json.dumps(result.__dict__, ensure_ascii=False))
        else:
            _print_stage(result)

    with addon:
        results = run_check(addon, on_stage)
    if any(result.status == "fail" for result in results):
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """Entry point of the `redis-rooms` console script."""
    app()
