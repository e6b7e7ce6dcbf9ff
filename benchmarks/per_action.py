"""Every action against the same commands on raw redis-py: what the addon adds per action.

Each action runs with the parameters of its first documented example (templates filled with
"1", as the tests do; no wait, no cursor). The commands it sends are recorded once (after a
warm-up call, so a Lua script is already loaded), then replayed on a plain ``redis.Redis`` from
the same config: the raw side is exactly the commands, pipelines included, a user would send by
hand for the same result. Both sides run in interleaved rounds; the figure is the median of the
per-round ratios of median latencies. A new action is measured without any change here.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import redis

from benchmarks.measures import Result, close_raw, make_addon, raw_twin
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon

LIMIT = 1.15  # x: no action above this (set_key and get_key have their own, 1.10, judged apart)
# ("command", (args, options)) or ("pipeline", (transaction, [(args, options), ...]))
Sent = tuple[str, Any]


def example_call(name: str) -> dict[str, Any]:
    """``name``'s first documented example step's parameters, templates filled with "1", without
    a wait (nothing blocks) or a cursor (only the deployment that handed it out takes it)."""
    parameters = _filled(CATALOGUE[name].examples[0]["parameters"])
    parameters.pop("wait_s", None)
    parameters.pop("cursor", None)
    return parameters


def _filled(value: Any) -> Any:
    if isinstance(value, dict):
        return {_filled(key): _filled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item) for item in value]
    return re.sub(r"\{\{[^}]*\}\}", "1", value) if isinstance(value, str) else value


def record(addon: RedisRoomsAddon, name: str, params: dict[str, Any]) -> tuple[int, list[Sent]]:
    """Run the action once, noting each command and pipeline its client sends: (code, sent)."""
    client = addon.client()
    sent: list[Sent] = []
    send, pipeline = client.execute_command, client.pipeline

    def recording_send(*args: Any, **options: Any) -> Any:
        sent.append(("command", (args, options)))
        return send(*args, **options)

    def recording_pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        def recording_execute(*a: Any, **k: Any) -> Any:
            stack = [(args, dict(options)) for args, options in pipe.command_stack]
            sent.append(("pipeline", (pipe.transaction, stack)))
            return execute(*a, **k)

        pipe.execute = recording_execute
        return pipe

    client.execute_command, client.pipeline = recording_send, recording_pipeline
    try:
        code = getattr(addon, name)(**params).code
    finally:
        del client.execute_command, client.pipeline  # the class's methods again
    return code, sent


def replay(raw: redis.Redis, sent: list[Sent]) -> Callable[[], Any]:
    """The same commands on raw redis-py, as a user would send them."""

    def run() -> None:
        for kind, what in sent:
            if kind == "command":
                args, options = what
                raw.execute_command(*args, **options)
            else:
                transaction, stack = what
                pipe = raw.pipeline(transaction=transaction)
                for args, options in stack:
                    pipe.execute_command(*args, **options)
                pipe.execute(raise_on_error=False)

    return run


def _timed(call: Callable[[], Any], calls: int) -> list[int]:
    clock = time.perf_counter_ns
    times = []
    for _ in range(calls):
        start = clock()
        call()
        times.append(clock() - start)
    return times


def per_action(port: int, rounds: int, calls: int) -> list[Result]:
    """One figure per action: addon / raw redis-py, median per call."""
    addon = make_addon(port)
    raw = raw_twin(addon)
    raw.ping()
    rows: dict[str, dict[str, Any]] = {}
    for name in CATALOGUE:
        params = example_call(name)
        action = getattr(addon, name)
        action(**params)  # warm-up: scripts loaded, models built
        code, sent = record(addon, name, params)
        if not sent:
            rows[name] = {"code": code, "commands": 0}
            continue

        def addon_call(action: Callable[..., Any] = action, params: dict = params) -> Any:
            return action(**params)

        raw_call = replay(raw, sent)
        ratios, addon_all, raw_all = [], [], []
        for number in range(rounds):
            if number % 2:
                raw_times = _timed(raw_call, calls)
                addon_times = _timed(addon_call, calls)
            else:
                addon_times = _timed(addon_call, calls)
                raw_times = _timed(raw_call, calls)
            ratios.append(statistics.median(addon_times) / statistics.median(raw_times))
            addon_all += addon_times
            raw_all += raw_times
        rows[name] = {
            "code": code,
            "commands": sum(1 if kind == "command" else len(what[1]) for kind, what in sent),
            "round_trips": len(sent),
            "sent": [_describe(kind, what) for kind, what in sent],
            "ratio": statistics.median(ratios),
            "addon_median_us": statistics.median(addon_all) / 1000,
            "raw_median_us": statistics.median(raw_all) / 1000,
            "params": params,
        }
    addon.close()
    close_raw(raw)
    measured = {name: row for name, row in rows.items() if "ratio" in row}
    worst = max(measured, key=lambda name: measured[name]["ratio"]) if measured else None
    results = [
        Result(
            id="actions.worst",
            figure=f"every action's addon / raw redis-py, the highest ({worst}; "
            f"{len(measured)} actions, {rounds} rounds x {calls} calls each)",
            value=round(measured[worst]["ratio"], 3) if worst else None,
            unit="x",
            op="<=",
            limit=LIMIT,
            details={"rows": rows, "rounds": rounds, "calls": calls},
        )
    ]
    for name, row in measured.items():
        results.append(
            Result(
                id=f"actions.{name}",
                figure=f"{name}: addon / raw redis-py ({row['addon_median_us']:.0f} / "
                f"{row['raw_median_us']:.0f} us; {', '.join(row['sent'])})",
                value=round(row["ratio"], 3),
                unit="x",
                details=row,
            )
        )
    return results


def _describe(kind: str, what: Any) -> str:
    if kind == "command":
        return _command(what[0])
    transaction, stack = what
    inner = " + ".join(_command(args) for args, _ in stack)
    return f"{'MULTI ' if transaction else ''}pipeline[{inner}]"


def _command(args: tuple[Any, ...]) -> str:
    first = args[0]
    return (first.decode() if isinstance(first, bytes) else str(first)).upper()


def markdown_table(results: list[Result]) -> str:
    """The per-action table for docs/benchmarks.md."""
    lines = [
        "| Action | Commands sent (raw redis-py sends the same) | Addon, us | Raw, us "
        "| Addon / raw |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results:
        if not result.id.startswith("actions.") or result.id == "actions.worst":
            continue
        row = result.details
        name = result.id.removeprefix("actions.")
        lines.append(
            f"| `{name}` | {', '.join(row['sent'])} | {row['addon_median_us']:.1f} | "
            f"{row['raw_median_us']:.1f} | {row['ratio']:.3f} |"
        )
    return "\n".join(lines) + "\n"
