"""The backends every action-family case runs on: a plugin of tests/conftest.py
(``pytest_plugins``), not a tests/actions/conftest.py, because a second conftest module would
replace ``conftest`` in sys.modules and break ``from conftest import PASSWORD``.

``addon``, ``make``, ``prefixed`` and ``limited`` follow ``backend`` (tests/conftest.py),
parametrised over the embedded Redis (fakeredis) and a real redis-server (the session's, emptied
per test), so one test function covers both; the "server" side is marked integration. A module
fixture of the same name overrides these, as the re-runs in tests/deployments/ do for a cluster
and Sentinel, and as any test module with its own ``addon`` does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from action_support import LIMIT, PREFIX, MakeAddon
from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


@pytest.fixture
def make(
    backend: str, request: pytest.FixtureRequest, make_addon: Callable[..., RedisRoomsAddon]
) -> MakeAddon:
    """Addons with extra options on the test's backend: embedded addons each have their own
    in-process server; server addons share the (emptied) real one."""
    if backend == "embedded":
        return lambda **options: make_addon(mode="embedded", **options)
    server: RedisServer = request.getfixturevalue("server")
    return lambda **options: make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, **options
    )


@pytest.fixture
def addon(make: MakeAddon) -> RedisRoomsAddon:
    return make()


@pytest.fixture
def prefixed(make: MakeAddon) -> RedisRoomsAddon:
    """An addon with key_prefix PREFIX: the building-block cases read Redis under it."""
    return make(key_prefix=PREFIX)


@pytest.fixture
def limited(make: MakeAddon) -> RedisRoomsAddon:
    """An addon with key_prefix PREFIX and max_value_bytes LIMIT."""
    return make(key_prefix=PREFIX, max_value_bytes=LIMIT)


@pytest.fixture
def real_prefixed(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> RedisRoomsAddon:
    """The prefixed addon on the real server only: for the cases that race another client."""
    return make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, key_prefix=PREFIX
    )
