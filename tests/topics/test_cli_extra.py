"""The CLI comes with the ``cli`` extra: without typer or rich, `redis-rooms` says how to get it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redis_rooms_pkg.cli import CLI_MISSING

INSTALL_LINE = "pip install 'redis-rooms-pkg[cli]'"


def run_python(code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, **kwargs
    )


def test_the_message_names_the_install_command() -> None:
    assert INSTALL_LINE in CLI_MISSING
    assert "\n" not in CLI_MISSING


@pytest.mark.parametrize("library", ["typer", "rich", "rich.console"])
def test_without_the_extra_the_command_says_how_to_install_it(library: str) -> None:
    code = (
        f"import sys; sys.modules[{library!r}] = None; from redis_rooms_pkg.cli import main; main()"
    )
    result = run_python(code)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", CLI_MISSING + "\n")


def test_the_installed_script_without_typer(tmp_path: Path) -> None:
    # sitecustomize runs before the console script: typer is then not importable
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['typer'] = None\n")
    script = Path(sys.executable).with_name("redis-rooms")
    result = subprocess.run(
        [str(script), "actions"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, "", CLI_MISSING + "\n")


def test_another_missing_module_is_not_blamed_on_the_extra() -> None:
    code = (
        "import sys; sys.modules['redis_rooms_pkg.workflow'] = None; "
        "from redis_rooms_pkg.cli import main; main()"
    )
    result = run_python(code)
    assert result.returncode == 1
    assert "redis_rooms_pkg.workflow" in result.stderr
    assert INSTALL_LINE not in result.stderr


def test_importing_the_cli_package_loads_no_cli_library() -> None:
    code = (
        "import sys, json; import redis_rooms_pkg.cli, redis_rooms_pkg.cli.check; "
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = run_python(code, check=True)
    loaded = set(json.loads(result.stdout))
    assert "redis_rooms_pkg" in loaded
    assert loaded.isdisjoint({"typer", "rich", "click"})


def test_the_package_still_offers_the_typer_app() -> None:
    import typer

    import redis_rooms_pkg.cli
    from redis_rooms_pkg.cli import app

    assert isinstance(app, typer.Typer)
    assert redis_rooms_pkg.cli.app is app  # not the app submodule
