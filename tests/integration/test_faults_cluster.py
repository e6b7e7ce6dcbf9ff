"""Cluster mode under faults, on its own 3-primary, 3-replica cluster (node timeout 3 s): a frozen
node never mixes replies up nor gets a write twice; kill -9 and a resharding under writer threads
lose no acknowledged write and double none; a paged listing notices a resharding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import PASSWORD
from deployments import RedisCluster, readme_entry
from faults import SOCKET_TIMEOUT, frozen_then_read
from redis_rooms_pkg.addon import RedisRoomsAddon

NODE_TIMEOUT = 3000  # ms: a node frozen for FREEZE is not failed over


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """Its own cluster: nodes are frozen, killed and resharded here."""
    started = RedisCluster(
        tmp_path_factory.mktemp("cluster-faults"), password=PASSWORD, node_timeout=NODE_TIMEOUT
    ).start()
    yield started
    started.stop()


@pytest.fixture
def make(cluster: RedisCluster) -> Iterator[Any]:
    made: list[RedisRoomsAddon] = []
    cluster.wait_healthy()
    cluster.flush()

    def build(**options: Any) -> RedisRoomsAddon:
        entry = readme_entry("cluster", startup_nodes=cluster.startup_nodes[:3], **options)
        addon = RedisRoomsAddon()
        assert addon.loadAddonConfig(entry)
        assert addon.loadCredentials(redis_password=PASSWORD)
        made.append(addon)
        return addon

    yield build
    for addon in made:
        addon.close()


def test_frozen_node_never_answers_another_commands_reply(cluster: RedisCluster, make: Any) -> None:
    """Both keys on one node (a hash tag), frozen below the node timeout: no failover."""
    addon = make(socket_timeout=SOCKET_TIMEOUT, max_connections=1)
    keys = ("{frozen}alpha", "{frozen}beta")
    frozen_then_read(addon, cluster.node_of(keys[0]), keys)
