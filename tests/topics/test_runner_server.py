"""Engine-format workflow files against a real redis-server: the runner and `redis-rooms run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import PASSWORD, entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.cli import app
from redis_rooms_pkg.workflow import WorkflowCheckError, run_workflow
from runner_cases import (
    CACHE_MOCKS,
    NEXROO_MOCKS,
    NEXROO_PAYLOAD,
    REDIS,
    broken_second_step,
    cache_aside,
    counting_loop,
    nexroo_shapes,
    on_error,
    parallel_join,
    two_entrypoints,
)
from servers import RedisServer

runner = CliRunner()


@pytest.fixture
def cli_files(tmp_path: Path, server: RedisServer, monkeypatch: pytest.MonkeyPatch):
    """Write a workflow (its Redis addon pointed at the server) and mocks; give the run args."""
    monkeypatch.setenv("REDIS_PASSWORD", PASSWORD)

    def files(document: dict[str, Any], mocks: dict[str, Any] | None = None) -> list[str]:
        document["addons"] = [entry(id=REDIS, host="127.0.0.1", port=server.port)]
        workflow = tmp_path / "workflow.json"
        workflow.write_text(json.dumps(document))
        args = [str(workflow)]
        if mocks is not None:
            mock_file = tmp_path / "mocks.json"
            mock_file.write_text(json.dumps(mocks))
            args += ["--mock-config", str(mock_file)]
        return args

    return files


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_cache_aside_miss_then_hit_on_the_server(server: RedisServer, cli_files) -> None:
    mocks = {action: {"mock_response": output} for action, output in CACHE_MOCKS.items()}
    args = cli_files(cache_aside(), mocks)
    first = runner.invoke(app, ["run", *args, "-p", '{"id": "42"}', "--json"])
    assert first.exit_code == 0, first.output
    assert [line["id"] for line in json_lines(first.stdout)] == ["check", "fetch", "store", "done"]
    client = server.client()
    assert client.get("cache:42") == "fresh"
    assert 0 < client.ttl("cache:42") <= 300
    second = runner.invoke(app, ["run", *args, "-p", '{"id": "42"}'])
    assert second.exit_code == 0, second.output
    shown = " ".join(second.stdout.split())
    assert f"Redis: r -> Redis at 127.0.0.1:{server.port} (db 0)" in shown
    assert "builtin::transform" in shown  # the hit path
    assert "api::fetch" not in shown
    assert PASSWORD not in first.output + second.output


def test_broken_file_writes_nothing_on_the_server(server: RedisServer, cli_files) -> None:
    result = runner.invoke(app, ["run", *cli_files(broken_second_step())])
    assert result.exit_code == 2
    assert "{{wrte.output.key}} names no step or payload (did you mean 'write'?)" in result.stderr
    assert server.client().dbsize() == 0


def test_the_engine_cli_example_shapes_with_a_mock_config(cli_files) -> None:
    args = cli_files(nexroo_shapes(), NEXROO_MOCKS)
    result = runner.invoke(app, ["run", *args, "-p", json.dumps(NEXROO_PAYLOAD), "--json"])
    assert result.exit_code == 0, result.output
    lines = {line["id"]: line for line in json_lines(result.stdout)}
    assert lines["completion"]["status"] == "mocked"
    assert lines["user-specific"]["output"]["transformed"]["said"] == "Analyzed."
    assert lines["report"]["output"]["transformed"] == {"last": "johndoe", "got": "johndoe"}


def run(document: dict[str, Any], addon: RedisRoomsAddon, **options: Any):
    return run_workflow(document, addons={REDIS: addon}, **options)


def test_parallel_branches_joined_once_on_the_server(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    results = run(parallel_join(), real_addon)
    assert [r.id for r in results].count("join") == 1
    assert server.client().get("joined") == "1"
    assert [server.client().get(f"n:{b}") for b in "abc"] == ["1", "1", "1"]


def test_start_at_is_honoured_on_the_server(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    run(two_entrypoints(), real_addon)
    assert (server.client().get("first"), server.client().get("second")) == (None, "2")


@pytest.mark.parametrize(("continues", "after"), [(True, "ran"), (False, None)])
def test_on_error_on_the_server(
    server: RedisServer, real_addon: RedisRoomsAddon, continues: bool, after: str | None
) -> None:
    results = run(on_error(continues), real_addon)
    assert results[0].status == "failed"
    assert server.client().get("after") == after


def test_loop_with_run_limit_on_the_server(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    results = run(counting_loop(limit=4, until=100), real_addon)
    assert [r.status for r in results] == ["ok"] * 4 + ["skipped"]
    assert server.client().get("loops") == "4"
    assert server.client().get("after") is None


def test_broken_file_check_before_any_write(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    with pytest.raises(WorkflowCheckError):
        run(broken_second_step(), real_addon)
    assert server.client().dbsize() == 0
