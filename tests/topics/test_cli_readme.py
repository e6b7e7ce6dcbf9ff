"""docs/cli.md's walkthrough against your own Redis runs as written, on a real server."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PASSWORD
from servers import RedisServer

ROOT = Path(__file__).parents[2]
SCRIPT = Path(sys.executable).with_name("redis-rooms")  # the installed console script
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()


def local_development() -> str:
    """docs/cli.md's walkthrough against your own Redis."""
    return CLI_DOC.split("## Against your own Redis", 1)[1]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", local_development(), re.S)


def commands(block: str) -> list[list[str]]:
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.splitlines() if line.strip()]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert args[0] in ("redis-rooms", ".venv/bin/redis-rooms")
    return subprocess.run(
        [str(SCRIPT), *args[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
def env() -> dict[str, str]:
    """A shell's environment with REDIS_PASSWORD exported, and plain (uncoloured) output."""
    plain = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return {**plain, "REDIS_PASSWORD": PASSWORD, "NO_COLOR": "1"}


def with_files(args: list[str], config: Path, env_file: Path) -> list[str]:
    replaced = {"my-redis.json": str(config), ".env": str(env_file)}
    return [replaced.get(arg, arg) for arg in args]


def test_own_redis_commands_run_as_written(
    tmp_path: Path, server: RedisServer, env: dict[str, str]
) -> None:
    (entry,) = [json.loads(block) for block in blocks("json")]
    assert entry["config"]["port"] == 6379
    entry["config"]["port"] = server.port  # the test server instead of your own
    config = tmp_path / "my-redis.json"
    config.write_text(json.dumps(entry))
    env_file = tmp_path / ".env"
    env_file.write_text(f"REDIS_PASSWORD={PASSWORD}\n")
    (own,) = blocks("bash")
    outputs = []
    for args in commands(own):
        done = run(with_files(args, config, env_file), env)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert json.loads(outputs[2])["output"]["value"] == "hello"
    assert server.client().get("session:42") == "tok-7f3a"


def test_check_output_shown_is_what_check_prints(
    tmp_path: Path, server: RedisServer, env: dict[str, str]
) -> None:
    (entry,) = [json.loads(block) for block in blocks("json")]
    entry["config"]["port"] = server.port
    config = tmp_path / "my-redis.json"
    config.write_text(json.dumps(entry))
    (shown,) = blocks("text")
    done = run(
        ["redis-rooms", "check", "--addon-config", str(config)],
        {**env, "REDIS_PASSWORD": "a-wrong-password"},
    )
    assert done.returncode == 1
    printed = done.stdout.replace(f":{server.port}", ":6379")
    printed = re.sub(r"in \d+\.\d ms", "in 0.2 ms", printed)
    assert printed == shown
    assert "a-wrong-password" not in done.stdout + done.stderr
