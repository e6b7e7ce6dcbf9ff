"""Project files CI and releases rely on: .ci/run, GitHub workflows, .releaserc.json, Makefile."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

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
    assert set(project["optional-dependencies"]) >= {"hiredis", "embedded", "cli"}
    assert pyproject["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert (ROOT / "src" / "redis_rooms_pkg" / "py.typed").exists()


def declared_requirements() -> list[Requirement]:
    """The run-time dependencies and every extra's, as pyproject.toml declares them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    return [Requirement(text) for text in declared]


def floor(requirement: Requirement) -> Version:
    (lowest,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return lowest


def lowest_requirements_script():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("lowest", ROOT / "scripts/lowest_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_dependency_has_a_floor_and_a_ceiling() -> None:
    for requirement in declared_requirements():
        operators = {s.operator for s in requirement.specifier}
        assert operators == {">=", "<"}, requirement


def test_the_engine_gets_no_cli_library() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {Requirement(text).name for text in project["dependencies"]}
    assert names == {"redis", "pydantic", "loguru", "python-dotenv"}
    cli = {Requirement(text).name for text in project["optional-dependencies"]["cli"]}
    assert cli == {"typer", "rich"}


def test_the_lowest_run_installs_every_declared_floor() -> None:
    script = lowest_requirements_script()
    pins = {Requirement(line.split(" ;")[0]) for line in script.requirements()}
    by_name = {pin.name: pin for pin in pins}
    for requirement in declared_requirements():
        pin = by_name[requirement.name]
        assert str(pin.specifier) == f"=={floor(requirement)}", requirement
        assert pin.extras == requirement.extras
    assert {"pytest", "pytest-timeout", "trustme", "check-jsonschema"} <= set(by_name)
    assert script.extras() == ["cli", "embedded", "hiredis"]


def test_make_test_runs_the_suite_at_the_floors_too() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipes = dict(re.findall(r"^([a-z-]+):[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M))
    assert recipes["test"].split("\n")[-2].strip().endswith("test-lowest")
    assert "pytest" in recipes["test-lowest"]
    lowest_install = makefile.split(".venv-lowest/.installed:")[1]
    assert "scripts/lowest_requirements.py" in lowest_install


def test_installed_versions_are_allowed_and_at_the_floor_in_the_lowest_run() -> None:
    lowest_run = Path(sys.prefix).name == ".venv-lowest"
    for requirement in declared_requirements():
        installed = Version(version(requirement.name))
        assert installed in requirement.specifier, (requirement, installed)
        if lowest_run:
            assert installed == floor(requirement), (requirement, installed)
