"""Every key-action case, building-block check and README workflow again, through Sentinel:
same calls, same outputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from blocks import CHECKS, LIMIT, LIMITED, PREFIX, Check
from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import SentinelDeployment
from key_action_cases import *  # noqa: F403 - the shared cases, collected here
from redis_rooms_pkg.addon import RedisRoomsAddon
from use_case_cases import *  # noqa: F403 - the README's workflows, collected here
from use_case_cases import FlowAddons, flow_addons_with

SERVICE = {"mode": "sentinel", "sentinel_master": "rooms"}


@pytest.fixture
def make(
    sentinel_primary: SentinelDeployment, make_addon: Callable[..., RedisRoomsAddon]
) -> Callable[..., RedisRoomsAddon]:
    """An addon in sentinel mode with extra options, on the (emptied) shared deployment."""

    def build(**options: object) -> RedisRoomsAddon:
        addon = make_addon(
            password=PASSWORD, sentinels=sentinel_primary.addresses, socket_timeout=2,
            **SERVICE, **options,
        )  # fmt: skip
        addon.loadCredentials(redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD)
        return addon

    return build


@pytest.fixture
def addon(make: Callable[..., RedisRoomsAddon]) -> RedisRoomsAddon:
    return make()


@pytest.mark.parametrize("check", CHECKS)
def test_building_block_via_sentinel(make: Callable[..., RedisRoomsAddon], check: Check) -> None:
    check(make(key_prefix=PREFIX))


@pytest.mark.parametrize("check", LIMITED)
def test_max_value_bytes_via_sentinel(make: Callable[..., RedisRoomsAddon], check: Check) -> None:
    check(make(key_prefix=PREFIX, max_value_bytes=LIMIT))


@pytest.fixture
def flow_addons(sentinel_primary: SentinelDeployment) -> Iterator[FlowAddons]:
    """The workflows' own addon entries with only the mode and sentinels changed."""

    def retarget(config: dict) -> dict:
        config = {k: v for k, v in config.items() if k not in ("host", "port")}
        return {**config, **SERVICE, "sentinels": sentinel_primary.addresses}

    yield from flow_addons_with(
        retarget, redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD
    )
