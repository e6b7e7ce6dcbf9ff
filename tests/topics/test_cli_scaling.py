"""`redis-rooms check` on a real Redis Cluster and a Sentinel deployment: the mode's own stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import RedisCluster, SentinelDeployment, readme_entry
from redis_rooms_pkg.cli import app
from servers import free_port

runner = CliRunner()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README examples' secrets, as the environment variables they name."""
    monkeypatch.setenv("REDIS_PASSWORD", PASSWORD)
    monkeypatch.setenv("REDIS_SENTINEL_PASSWORD", SENTINEL_PASSWORD)


def check(tmp_path: Path, entry: dict[str, Any]) -> tuple[int, dict[str, dict[str, str]]]:
    path = tmp_path / "addon.json"
    path.write_text(json.dumps(entry))
    result = runner.invoke(app, ["check", "--json", "--addon-config", str(path)])
    stages = {line["stage"]: line for line in map(json.loads, result.stdout.splitlines())}
    return result.exit_code, stages


@pytest.mark.usefixtures("secrets")
def test_check_a_cluster(tmp_path: Path, cluster: RedisCluster) -> None:
    code, stages = check(tmp_path, readme_entry("cluster", startup_nodes=cluster.startup_nodes))
    assert code == 0, stages
    assert list(stages) == ["auth", "server", "slots", "latency"]
    assert stages["slots"]["detail"] == "3 primaries serve all 16384 hash slots"
    assert "cluster server" in stages["server"]["detail"]


@pytest.mark.usefixtures("secrets")
def test_check_an_unreachable_cluster(tmp_path: Path) -> None:
    entry = readme_entry("cluster", startup_nodes=[f"127.0.0.1:{free_port()}"], retry_attempts=0)
    code, stages = check(tmp_path, entry)
    assert code == 1
    assert stages["auth"]["status"] == "fail"
    assert "connection refused" in stages["auth"]["detail"]
    assert stages["slots"]["status"] == "skip"


@pytest.mark.usefixtures("secrets")
def test_check_a_sentinel_deployment(tmp_path: Path, sentinel_primary: SentinelDeployment) -> None:
    code, stages = check(tmp_path, readme_entry("sentinel", sentinels=sentinel_primary.addresses))
    assert code == 0, stages
    assert list(stages) == ["auth", "server", "primary", "latency"]
    port = sentinel_primary.known_primary_port()
    assert stages["primary"]["detail"] == (
        f"the sentinels name 127.0.0.1:{port} as primary of 'rooms' (1 replica(s) known to them)"
    )


def test_check_refused_by_the_sentinels(
    tmp_path: Path, sentinel_primary: SentinelDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", PASSWORD)
    monkeypatch.setenv("REDIS_SENTINEL_PASSWORD", "not-the-sentinel-password")
    entry = readme_entry("sentinel", sentinels=sentinel_primary.addresses, retry_attempts=0)
    code, stages = check(tmp_path, entry)
    assert code == 1
    assert stages["auth"]["status"] == "fail"
    assert "redis_sentinel_password" in stages["auth"]["detail"]
    assert "not-the-sentinel-password" not in json.dumps(stages)
