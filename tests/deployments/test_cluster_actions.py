"""Every key-action case, building-block check and README workflow again, on a real Redis
Cluster: same calls, same outputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from blocks import CHECKS, LIMIT, LIMITED, PREFIX, Check
from conftest import PASSWORD
from deployments import RedisCluster
from key_action_cases import *  # noqa: F403 - the shared cases, collected here
from redis_rooms_pkg.addon import RedisRoomsAddon
from use_case_cases import *  # noqa: F403 - the README's workflows, collected here
from use_case_cases import FlowAddons, flow_addons_with


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


# --- the building-block actions and the README's workflows, unchanged, on the cluster -----------


@pytest.mark.parametrize("check", CHECKS)
def test_building_block_on_cluster(make: Callable[..., RedisRoomsAddon], check: Check) -> None:
    check(make(key_prefix=PREFIX))


@pytest.mark.parametrize("check", LIMITED)
def test_max_value_bytes_on_cluster(make: Callable[..., RedisRoomsAddon], check: Check) -> None:
    check(make(key_prefix=PREFIX, max_value_bytes=LIMIT))


@pytest.fixture
def flow_addons(cluster: RedisCluster) -> Iterator[FlowAddons]:
    """The workflows' own addon entries with only the mode and nodes changed."""

    def retarget(config: dict) -> dict:
        config = {k: v for k, v in config.items() if k not in ("host", "port", "db")}
        return {**config, "mode": "cluster", "startup_nodes": cluster.startup_nodes}

    yield from flow_addons_with(retarget, redis_password=PASSWORD)
