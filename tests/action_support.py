"""Helpers of the action-family tests (tests/actions/) and of their re-runs on a cluster and
through Sentinel (tests/deployments/): reading past the addon on any deployment, the
building-block key prefix and limits, the server's command counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.client import NEVER_DECODE

from redis_rooms_pkg.actions.base import is_cluster
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

MakeAddon = Callable[..., RedisRoomsAddon]
RAW = {NEVER_DECODE: []}  # execute_command option: the reply as bytes
PREFIX = "wf:"  # the key_prefix of the ``prefixed`` and ``limited`` addons
LIMIT = 16  # bytes: the max_value_bytes of the ``limited`` addon
THREADS = 50
JOIN_TIMEOUT = 30.0  # s, longest wait for a thread pool: proves nothing hangs


def ok(response):
    assert response.code == 200, response.message
    return response.output


def failed(response, code: int) -> str:
    assert response.code == code, (response.code, response.message)
    return response.message


def seed(addon: RedisRoomsAddon, mapping: dict[str, Any]) -> None:
    """Write keys past the addon (no prefix); on a cluster, one MSET per hash slot."""
    client = addon.client()
    (client.mset_nonatomic if is_cluster(client) else client.mset)(mapping)


def read_many(addon: RedisRoomsAddon, *keys: str) -> list[Any]:
    """Read keys past the addon (no prefix), wherever they live."""
    client = addon.client()
    return (client.mget_nonatomic if is_cluster(client) else client.mget)(keys)


def key_count(addon: RedisRoomsAddon) -> int:
    """How many keys the whole deployment holds (every primary of a cluster), by SCAN."""
    return sum(1 for _ in addon.client().scan_iter(count=1000))


def raw_get(addon: RedisRoomsAddon, key: str) -> bytes | None:
    """The stored bytes of a key, read past the addon (no prefix, no decoding)."""
    return addon.client().execute_command("GET", key, **RAW)


def calls(server: RedisServer) -> dict[str, int]:
    """Commands the server ran since the last reset, by name."""
    stats: dict[str, Any] = server.client().info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def reset(server: RedisServer) -> None:
    server.client().config_resetstat()
