"""The run's context (machine, versions), its table and its JSON file."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from loguru import logger

from benchmarks.measures import Result


def quiet_logging() -> None:
    """Log like a production engine (DEBUG off), and keep the table readable: WARNING and up."""
    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def context(redis_server: str) -> dict[str, Any]:
    """Machine and versions, recorded with every run."""
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "load_average": load,
            "os": platform.platform(),
        },
        "versions": {
            "python": platform.python_version(),
            "redis-server": redis_server,
            **{
                name: _version(name)
                for name in ("redis-rooms-pkg", "redis", "pydantic", "loguru", "hiredis")
            },
        },
    }


def table(results: list[Result]) -> str:
    """A plain-text table: figure, value, target, verdict."""
    rows = [("Figure", "Value", "Target", "Result")]
    for result in results:
        value = "n/a" if result.value is None else f"{result.value:g} {result.unit}".rstrip()
        rows.append((result.figure, value, result.target, result.status))
    widths = [max(len(row[col]) for row in rows) for col in range(4)]
    lines = []
    for number, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {r.id}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", "Notes:", *notes] if notes else []))


def write_json(path: Path, run: dict[str, Any], results: list[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**run, "results": [result.as_dict() for result in results]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def markdown(run: dict[str, Any], results: list[Result]) -> str:
    """The run as Markdown (machine, versions, table), for docs/benchmarks.md."""
    machine, versions = run["machine"], run["versions"]
    load = machine.get("load_average")
    lines = [
        f"Run of {run['date']}, profile `{run['profile']}`.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['os']}"
        + (
            f"; load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
            if load
            else ""
        ),
        "- Versions: " + ", ".join(f"{name} {value}" for name, value in versions.items()),
        "",
        "| Figure | Value | Target | Result |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        value = "n/a" if result.value is None else f"{result.value:g} {result.unit}".rstrip()
        figure = result.figure.replace("|", "\\|")
        lines.append(f"| {figure} | {value} | {result.target} | {result.status} |")
    return "\n".join(lines) + "\n"
