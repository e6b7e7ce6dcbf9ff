"""The connection bound on Cluster and Sentinel under load, across credential reloads and
close(): at most max_connections to each node (issue 21, point 5).

An independent load test (16 threads, max_connections 10) counted 18 connections from one
addon: a reload on these deployments closed the client and built another next to the busy one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import RedisCluster, SentinelDeployment, readme_entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

CLIENT_NAME = "rooms:bound-deployments"
MAX_CONNECTIONS = 10
THREADS = 16
ROUNDS = 40  # reloads and closes while the threads run


class NodeSampler:
    """The most connections named CLIENT_NAME seen on any of ``nodes``, sampled until stopped."""

    def __init__(self, nodes: list[RedisServer]) -> None:
        self.raws = [node.client(client_name="sampler") for node in nodes]
        self.most = 0
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self) -> None:
        for raw in self.raws:
            named = sum(c["name"] == CLIENT_NAME for c in raw.client_list())
            self.most = max(self.most, named)
        self.samples += 1

    def run(self) -> None:
        while not self.stop.wait(0.005) and self.samples < 50_000:
            self.sample()

    def __enter__(self) -> NodeSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def load(addon: RedisRoomsAddon, reload: Callable[[], None], sampler: NodeSampler) -> list[str]:
    """THREADS threads of mixed actions (commands, pipelines, scripts) while ``reload`` and
    close() run ROUNDS times; the failures the threads saw."""
    stop = threading.Event()

    def steps(thread: int) -> list[str]:
        failures = []
        for i in range(20_000):  # bounded; normally ends by `stop`
            if stop.is_set():
                break
            key = f"{{t{thread}}}:k{i % 10}"
            kind = i % 4
            if kind == 0:
                response = addon.set_key(key, "v")
            elif kind == 1:
                response = addon.get_many([key, key + "x"])  # a pipeline
            elif kind == 2:
                response = addon.rate_limit(key + "rl", 100_000, 60)  # a script
            else:
                response = addon.increment(key + "n")
            if response.code != 200:
                failures.append(f"{response.code} {response.message}")
        return failures

    with sampler, ThreadPoolExecutor(THREADS) as threads:
        running = [threads.submit(steps, t) for t in range(THREADS)]
        for round_ in range(ROUNDS):
            if round_ % 2:
                reload()
            else:
                addon.close()
            sampler.sample()
        stop.set()
        return [failure for future in running for failure in future.result()]


@pytest.fixture
def cluster_addon(cluster: RedisCluster) -> Iterator[RedisRoomsAddon]:
    entry = readme_entry(
        "cluster",
        startup_nodes=cluster.startup_nodes[:3],
        client_name=CLIENT_NAME,
        max_connections=MAX_CONNECTIONS,
    )
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry)
    assert addon.loadCredentials(redis_password=PASSWORD)
    yield addon
    addon.close()


@pytest.fixture
def sentinel_addon(sentinel_primary: SentinelDeployment) -> Iterator[RedisRoomsAddon]:
    entry = readme_entry(
        "sentinel",
        sentinels=sentinel_primary.addresses,
        client_name=CLIENT_NAME,
        max_connections=MAX_CONNECTIONS,
    )
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry)
    assert addon.loadCredentials(redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD)
    yield addon
    addon.close()


def test_cluster_reloads_under_load_keep_each_node_within_max_connections(
    cluster: RedisCluster, cluster_addon: RedisRoomsAddon
) -> None:
    sampler = NodeSampler(cluster.primary_nodes())
    failures = load(
        cluster_addon, lambda: cluster_addon.loadCredentials(redis_password=PASSWORD), sampler
    )
    assert not failures, failures[:5]
    assert sampler.most >= 2  # the load was concurrent: the bound was tested
    assert sampler.most <= MAX_CONNECTIONS


def test_sentinel_reloads_under_load_keep_the_primary_within_max_connections(
    sentinel_primary: SentinelDeployment, sentinel_addon: RedisRoomsAddon
) -> None:
    assert sentinel_primary.primary is not None
    sampler = NodeSampler([sentinel_primary.primary])
    failures = load(
        sentinel_addon,
        lambda: sentinel_addon.loadCredentials(
            redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD
        ),
        sampler,
    )
    assert not failures, failures[:5]
    assert sampler.most >= 2
    assert sampler.most <= MAX_CONNECTIONS


SECOND_PASSWORD = "second-Vb7!pw"


def test_cluster_new_password_reaches_every_node_through_the_same_pools(
    cluster: RedisCluster, cluster_addon: RedisRoomsAddon
) -> None:
    assert cluster_addon.set_many({f"{{n{i}}}:k": "v" for i in range(12)}).code == 200
    pools = {id(pool) for pool in cluster_pools(cluster_addon)}
    nodes = cluster.running()
    for node in nodes:
        node.client().execute_command("ACL", "SETUSER", "default", f">{SECOND_PASSWORD}")
    try:
        assert cluster_addon.loadCredentials(redis_password=SECOND_PASSWORD)
        for node in nodes:  # the first password no longer works anywhere
            node.client().execute_command("ACL", "SETUSER", "default", f"<{PASSWORD}")
        response = cluster_addon.get_many([f"{{n{i}}}:k" for i in range(12)])
        assert response.code == 200, response.message
        assert response.output.values == {f"{{n{i}}}:k": "v" for i in range(12)}
        assert {id(pool) for pool in cluster_pools(cluster_addon)} == pools  # renewed in place
    finally:
        for node in nodes:
            raw = redis.Redis(port=node.port, password=SECOND_PASSWORD)
            raw.execute_command("ACL", "SETUSER", "default", f">{PASSWORD}", f"<{SECOND_PASSWORD}")


def cluster_pools(addon: RedisRoomsAddon) -> list[object]:
    client = addon.client()
    return [
        node.redis_connection.connection_pool
        for node in client.get_nodes()
        if node.redis_connection is not None
    ]
