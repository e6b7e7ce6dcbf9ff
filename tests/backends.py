"""The backends every action-family case runs on: a plugin of tests/conftest.py
(``pytest_plugins``), not a tests/actions/conftest.py, because a second conftest module would
replace ``conftest`` in sys.modules and break ``from conftest import PASSWORD``.

``addon``, ``make``, ``prefixed`` and ``limited`` follow ``backend`` (tests/conftest.py),
parametrised over the embedded Redis (fakeredis) and a real redis-server (the session's, emptied
per test), so one test function covers both; the "server" side is marked integration. A module
fixture of the same name overrides these: a module that overrides ``backend`` (params among
"embedded", "server", "cluster", "sentinel") gets them on those deployments, as the re-runs in
tests/deployments/ and the queue, set and sorted-set tests do."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from action_support import LIMIT, PREFIX, MakeAddon
from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import RedisCluster, SentinelDeployment
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


def addon_factory(
    request: pytest.FixtureRequest, make_addon: Callable[..., RedisRoomsAddon], backend: str
) -> MakeAddon:
    """Addons with extra options on ``backend``: "embedded" (each addon its own in-process
    server), or the session's (emptied) real "server", "cluster" or "sentinel" deployment."""
    if backend == "embedded":
        return lambda **options: make_addon(mode="embedded", **options)
    if backend == "server":
        server: RedisServer = request.getfixturevalue("server")
        return lambda **options: make_addon(
            password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, **options
        )
    if backend == "cluster":
        cluster: RedisCluster = request.getfixturevalue("cluster")
        return lambda **options: make_addon(
            password=PASSWORD,
            mode="cluster",
            startup_nodes=cluster.startup_nodes[:2],
            socket_timeout=2,
            **options,
        )
    sentinels: SentinelDeployment = request.getfixturevalue("sentinel_primary")

    def through_sentinel(**options: object) -> RedisRoomsAddon:
        addon = make_addon(
            password=PASSWORD,
            mode="sentinel",
            sentinel_master="rooms",
            sentinels=sentinels.addresses,
            socket_timeout=2,
            **options,
        )
        addon.loadCredentials(redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD)
        return addon

    return through_sentinel


@pytest.fixture
def make(
    backend: str, request: pytest.FixtureRequest, make_addon: Callable[..., RedisRoomsAddon]
) -> MakeAddon:
    """Addons with extra options on the test's backend (see addon_factory)."""
    return addon_factory(request, make_addon, backend)


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
