"""docs/cli.md and the README's Local development text match the command and the examples."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer.main

from redis_rooms_pkg.cli import app

ROOT = Path(__file__).parents[2]
SCRIPT = Path(sys.executable).with_name("redis-rooms")  # the installed console script
README = (ROOT / "README.md").read_text()
SNIPPET = README.split("## Local development", 1)[1].split("\n## ", 1)[0]  # its section
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()


def blocks(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, re.S)


def test_snippet_shows_the_shipped_engine_example_and_mocks() -> None:
    workflow, mocks = blocks(SNIPPET, "json")
    assert workflow == (ROOT / "examples" / "engine" / "weather_cache.json").read_text()
    assert mocks == (ROOT / "examples" / "engine" / "mocks.json").read_text()
    assert json.loads(workflow)["entrypoints"][0]["startAt"] == "check-cache"


def test_snippet_command_runs_as_written() -> None:
    (block,) = blocks(SNIPPET, "bash")
    args = shlex.split(block.replace("\\\n", " "))
    assert args[0] == ".venv/bin/redis-rooms"  # the installed command after make demo
    done = subprocess.run(
        [str(SCRIPT), *args[1:], "--json"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines if line["run"] == 2][-1] == "log-hit"
    assert any(line["status"] == "mocked" for line in lines if line["run"] == 1)


def test_cli_doc_lists_every_run_option() -> None:
    run = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    table = re.search(r"^\| Option \| What it does \|\n(.*?)\n\n", CLI_DOC, re.M | re.S)
    assert table
    documented = set(re.findall(r"`(--[a-z-]+)", table.group(1)))
    options = {
        name
        for param in run.params
        if param.param_type_name == "option"
        for name in param.opts
        if name.startswith("--") and name not in ("--json", "--help")
    }
    assert documented == options
