"""The actions' Lua scripts: every multi-command action has one, and each touches only KEYS[1]
(cluster-safe). Reads the sources; no Redis."""

from __future__ import annotations

import pytest


def lua_scripts() -> list:
    """Every Lua script of the actions: the SCRIPT of an action module, and the shared ones."""
    import importlib
    import pkgutil

    import redis_rooms_pkg.actions as package

    found = []
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if name.isupper() and isinstance(value, str) and "redis.call(" in value:
                found.append(pytest.param(value, id=f"{module.name}.{name}"))
    return found


SCRIPTS = lua_scripts()


def test_every_multi_command_action_has_its_script() -> None:
    modules = {param.id.split(".")[0] for param in SCRIPTS}
    assert modules == {
        "increment",
        "rate_limit",
        "hash_set",
        "hash_get",
        "release_lock",
        "extend_lock",
        "scripts",
    }


@pytest.mark.parametrize("source", SCRIPTS)
def test_scripts_touch_only_their_declared_key(source: str) -> None:
    """Cluster-safe: every command names KEYS[1], so one call never spans hash slots."""
    import re

    calls = re.findall(r"redis\.p?call\(([^,)]+)(?:,\s*([^,)]+))?", source)
    assert calls
    for command, first_argument in calls:
        if command.strip("'") == "TIME":
            continue
        assert first_argument == "KEYS[1]", (command, first_argument)
    assert "KEYS[2]" not in source
