"""Every key-action case again, on a real Redis Cluster: same calls, same outputs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import PASSWORD
from deployments import RedisCluster
from key_action_cases import *  # noqa: F403 - the shared cases, collected here
from redis_rooms_pkg.addon import RedisRoomsAddon


@pytest.fixture
def make(
    cluster: RedisCluster, make_addon: Callable[..., RedisRoomsAddon]
) -> Callable[..., RedisRoomsAddon]:
    """An addon in cluster mode with extra options, on the (emptied) shared cluster."""
    return lambda **options: make_addon(
        password=PASSWORD,
        mode="cluster",
        startup_nodes=cluster.startup_nodes[:2],
        socket_timeout=2,
        **options,
    )


@pytest.fixture
def addon(make: Callable[..., RedisRoomsAddon]) -> RedisRoomsAddon:
    return make()
