"""What importing the addon loads: nothing optional, nothing mode- or CLI-specific (no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

import redis_rooms_pkg
from redis_rooms_pkg.actions import CATALOGUE

NAMES = list(CATALOGUE)  # every declared action, in declaration order

# Imported only when used: fakeredis by mode "embedded", dotenv when a secret is read from .env,
# the CLI libraries by the command line.
OPTIONAL = ("fakeredis", "dotenv", "typer", "rich", "click")


def test_importing_the_addon_loads_no_optional_module() -> None:
    code = (
        "import sys, json; import redis_rooms_pkg.addon; "
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "redis_rooms_pkg" in loaded
    assert loaded.isdisjoint(OPTIONAL), sorted(loaded & set(OPTIONAL))


def test_action_modules_load_when_first_looked_up() -> None:
    code = (
        "import sys; import redis_rooms_pkg.addon as a; "
        "before = 'redis_rooms_pkg.actions.history_get' in sys.modules; "
        "spec = a.CATALOGUE['history_get']; "
        "print(before, 'redis_rooms_pkg.actions.history_get' in sys.modules, spec.name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "history_get"]


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_names_its_modules(name: str) -> None:
    assert name in CATALOGUE
    assert CATALOGUE[name].name == name


def test_catalogue_refuses_unknown_actions() -> None:
    assert "no_such_action" not in CATALOGUE
    assert len(CATALOGUE) == len(NAMES) == len(set(NAMES))
    assert list(CATALOGUE) == list(NAMES)
    with pytest.raises(KeyError):
        CATALOGUE["no_such_action"]


def test_version_comes_from_the_installed_metadata() -> None:
    assert redis_rooms_pkg.__version__ == version("redis-rooms-pkg")


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = redis_rooms_pkg.no_such_thing


def test_catalogue_entries_can_be_set_and_deleted_like_a_dict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = CATALOGUE["get_key"]
    monkeypatch.setitem(CATALOGUE, "ghost", spec)
    assert list(CATALOGUE)[-1] == "ghost"
    assert CATALOGUE["ghost"] is spec
    monkeypatch.setitem(CATALOGUE, "get_key", spec)  # an existing entry keeps its place
    assert list(CATALOGUE)[: len(NAMES)] == list(NAMES)
    monkeypatch.undo()
    assert "ghost" not in CATALOGUE
    assert list(CATALOGUE) == list(NAMES)
    with pytest.raises(KeyError):
        del CATALOGUE["no_such_action"]
