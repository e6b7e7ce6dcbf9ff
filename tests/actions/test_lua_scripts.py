"""The actions' Lua scripts: every multi-command action has one, and each touches only its
declared keys (cluster-safe). Reads the sources; no Redis."""

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
        "queue_take",
        "queue_ack",
        "queue_fail",
        "set_add",
        "zset_add",
        "zset_increment",
        "zset_pop_due",
    }


# Commands whose key is not their first argument (it follows a subcommand or options), and the
# scripts that declare a second key in the same hash slot (a queue and its dead-letter queue).
KEY_LATER = ("XGROUP", "XREADGROUP")
TWO_KEYS = ("queue_fail", "queue_take")


@pytest.mark.parametrize("source", SCRIPTS)
def test_scripts_touch_only_their_declared_key(source: str) -> None:
    """Cluster-safe: every command names KEYS[1], so one call never spans hash slots."""
    import re

    calls = re.findall(r"redis\.p?call\(([^,)]+)(?:,\s*([^,)]+))?([^)]*)", source)
    assert calls
    two_keys = any(source is vars(_module(name))["SCRIPT"] for name in TWO_KEYS)
    keys = ("KEYS[1]", "KEYS[2]") if two_keys else ("KEYS[1]",)
    for command, first_argument, rest in calls:
        if command.strip("'") == "TIME":
            continue
        if command.strip("'") in KEY_LATER:
            assert re.search(r"KEYS\[1\]", rest), (command, rest)
            continue
        assert first_argument in keys, (command, first_argument)
    assert ("KEYS[2]" in source) == two_keys
    assert "KEYS[3]" not in source


def _module(name: str):
    import importlib

    return importlib.import_module(f"redis_rooms_pkg.actions.{name}")
