"""The actions' Lua scripts: every multi-command action has one, and each touches only its
declared keys (cluster-safe). Reads the sources; no Redis."""

from __future__ import annotations

import pytest


def lua_scripts() -> list:
    """Every Lua script of the actions: the SCRIPT of an action module, and the shared ones."""
    import importlib
    import inspect
    import pkgutil
    import re

    import redis_rooms_pkg.actions as package

    found = []
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        source = inspect.getsource(loaded)
        for name, value in vars(loaded).items():
            if (
                name.isupper()
                and isinstance(value, str)
                and "redis.call(" in value
                and re.search(rf"^{name} = ", source, re.M)  # defined here, not imported
            ):
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
        "queue_add",
        "queue_keys",
        "queue_take",
        "queue_ack",
        "queue_fail",
        "set_add",
        "zset_add",
        "zset_increment",
        "zset_pop_due",
    }


# Commands whose key is not their first argument (it follows a subcommand or options), and the
# modules whose scripts take a queue's three keys, all in its hash slot (queue_keys: the stream,
# the dead-letter queue, the dedupe markers); every other script declares one key.
KEY_LATER = ("XGROUP", "XREADGROUP")
QUEUE_MODULES = ("queue_add", "queue_ack", "queue_fail", "queue_take", "queue_keys")


@pytest.mark.parametrize("source", SCRIPTS)
def test_scripts_touch_only_their_declared_key(source: str, request: pytest.FixtureRequest) -> None:
    """Cluster-safe: every command names a key the call declares (KEYS[1], or one of a queue's
    three keys), so one call never spans hash slots."""
    import re

    calls = re.findall(r"redis\.p?call\(([^,)]+)(?:,\s*([^,)]+))?([^)]*)", source)
    assert calls
    module = request.node.callspec.id.split(".")[0]
    declared = 3 if module in QUEUE_MODULES else 1
    keys = tuple(f"KEYS[{n}]" for n in range(1, declared + 1))
    for command, first_argument, rest in calls:
        if command.strip("'") == "TIME":
            continue
        if command.strip("'") in KEY_LATER:
            assert re.search(r"KEYS\[1\]", rest), (command, rest)
            continue
        assert first_argument in keys, (command, first_argument)
    named = set(re.findall(r"KEYS\[(\d+)\]", source))
    assert named <= {str(n) for n in range(1, declared + 1)}, named
