"""Project files CI and releases rely on: .ci/run, GitHub workflows, .releaserc.json, Makefile."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


ROOT = Path(__file__).parents[2]


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]


def test_github_workflows_match_the_workflow_schema() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "release.yml"}
    checker = Path(sys.executable).with_name("check-jsonschema")  # a dev dependency
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_workflow_tests_with_a_redis_server_and_make_test() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "redis-server" in ci
    assert "make test" in ci
    assert "make lint" in ci


def test_releaserc_is_semantic_release_config() -> None:
    config = json.loads((ROOT / ".releaserc.json").read_text())
    assert config["branches"] == ["main"]
    plugins = [p if isinstance(p, str) else p[0] for p in config["plugins"]]
    assert plugins[:2] == [
        "@semantic-release/commit-analyzer",
        "@semantic-release/release-notes-generator",
    ]
    assert "@semantic-release/github" in plugins
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert "semantic-release" in release


def test_makefile_has_the_readme_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    assert {"demo", "test", "install", "lint"} <= targets


def test_one_coverage_threshold_in_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    addopts = pyproject["tool"]["pytest"]["ini_options"]["addopts"]
    gates = [opt for opt in addopts if opt.startswith("--cov-fail-under")]
    assert gates == ["--cov-fail-under=90"]
    assert pyproject["tool"]["coverage"]["run"]["branch"] is True
    assert not (ROOT / "pytest.ini").exists()
    assert not (ROOT / "setup.cfg").exists()


def test_package_metadata_for_the_engine() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "redis-rooms-pkg"
    assert project["requires-python"] == ">=3.10"
    assert set(project["optional-dependencies"]) >= {"hiredis", "embedded"}
    assert pyproject["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert (ROOT / "src" / "redis_rooms_pkg" / "py.typed").exists()
