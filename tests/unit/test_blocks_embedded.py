"""The workflow building-block actions on the embedded (fakeredis, with Lua) backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from blocks import CHECKS, LIMIT, LIMITED, PREFIX, Check
from conftest import entry
from redis_rooms_pkg.actions.list_pop import MAX_WAIT, block_slice
from redis_rooms_pkg.addon import RedisRoomsAddon


@pytest.fixture
def prefixed() -> Iterator[RedisRoomsAddon]:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(mode="embedded", key_prefix=PREFIX))
    yield addon
    addon.close()


@pytest.mark.parametrize("check", CHECKS)
def test_building_block(prefixed: RedisRoomsAddon, check: Check) -> None:
    check(prefixed)


@pytest.mark.parametrize("check", LIMITED)
def test_max_value_bytes(make_addon: Callable[..., RedisRoomsAddon], check: Check) -> None:
    check(make_addon(mode="embedded", key_prefix=PREFIX, max_value_bytes=LIMIT))


def test_server_info_says_the_embedded_redis_has_no_info(prefixed: RedisRoomsAddon) -> None:
    response = prefixed.server_info()
    assert response.code == 501
    assert "embedded" in response.message


def test_server_info_refuses_unknown_sections(prefixed: RedisRoomsAddon) -> None:
    response = prefixed.server_info(section="secrets")
    assert response.code == 400
    assert "section" in response.message


@pytest.mark.parametrize(
    ("socket_timeout", "slice_s"),
    [
        pytest.param(5, 4, id="default"),
        pytest.param(1.5, 0.75, id="short"),
        pytest.param(0.05, 0.025, id="tiny"),
        pytest.param(None, MAX_WAIT, id="unbounded-socket"),
    ],
)
def test_blocking_slices_end_before_the_socket_timeout(
    socket_timeout: float | None, slice_s: float
) -> None:
    assert block_slice(socket_timeout) == pytest.approx(slice_s)
