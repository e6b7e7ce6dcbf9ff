"""Cluster mode under faults, on its own 3-primary, 3-replica cluster (node timeout 3 s): a frozen
node never mixes replies up nor gets a write twice; kill -9 and a resharding under writer threads
lose no acknowledged write and double none; a paged listing notices a resharding."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import PASSWORD
from deployments import RedisCluster, readme_entry
from faults import (
    SOCKET_TIMEOUT,
    Ledger,
    frozen,
    frozen_then_read,
    idle_drop_spares_checked_out,
    move_slot,
    run_writers,
)
from redis_rooms_pkg.addon import RedisRoomsAddon

pytestmark = pytest.mark.integration  # the tests start their own servers

NODE_TIMEOUT = 3000  # ms: a node frozen for FREEZE is not failed over
RESUMED = 400  # acknowledged increments after a kill that show writes resumed


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


def primary_of(cluster: RedisCluster, key: str) -> Any:
    """A plain redis-py client of the primary serving ``key`` now, decoding replies."""
    return cluster.node_of(key).client(socket_timeout=5)


def reader(cluster: RedisCluster) -> Any:
    def read(key: str) -> Any:
        client = primary_of(cluster, key)
        return client.get(key) if "}counter" in key else client.lrange(key, 0, -1)

    return read


def test_frozen_node_gets_every_write_at_most_once(cluster: RedisCluster, make: Any) -> None:
    """4 writer threads on one node's slot, the node frozen below the node timeout: writes that
    time out answer 504 and are never resent; acknowledged ones are applied exactly once."""
    addon = make(socket_timeout=SOCKET_TIMEOUT, max_connections=4)
    ledger = Ledger(addon, "freeze")
    node = cluster.node_of(ledger.counter(0))
    done = threading.Event()

    def freeze_once() -> None:
        time.sleep(0.3)
        with frozen(node):
            pass
        time.sleep(0.5)
        done.set()

    freezer = threading.Thread(target=freeze_once)
    freezer.start()
    run_writers(4, ledger.write, done.is_set)
    freezer.join()
    figures = ledger.check(reader(cluster), 4)
    print("frozen node under writers:", figures)
    assert figures["unknown (504)"] >= 1, figures  # the freeze did catch writes in flight


def slot_of(cluster: RedisCluster, key: str) -> int:
    return int(cluster.running()[0].client().execute_command("CLUSTER", "KEYSLOT", key))


def test_resharding_under_writers_loses_and_doubles_nothing(
    cluster: RedisCluster, make: Any
) -> None:
    """3 writer threads while the slot of their keys moves to another primary, keys migrated a
    few at a time (ASK and MOVED redirections); then moved back."""
    addon = make(socket_timeout=2, max_connections=3)
    ledger = Ledger(addon, "reshard")
    key = ledger.counter(0)
    slot = slot_of(cluster, key)
    done = threading.Event()

    def reshard() -> None:
        try:
            time.sleep(0.3)
            for _ in range(2):  # there and back again
                source = cluster.node_of(key)
                target = next(node for node in cluster.primary_nodes() if node is not source)
                move_slot(slot, source, target, cluster.primary_nodes())
                time.sleep(0.3)
        finally:
            done.set()

    mover = threading.Thread(target=reshard)
    mover.start()
    tally = run_writers(3, ledger.write, done.is_set)
    mover.join()
    figures = ledger.check(reader(cluster), 3)
    print("resharding under writers:", figures, tally.codes)
    assert figures["acknowledged"] > 100, (figures, tally.codes)


def test_dropping_idle_connections_spares_checked_out_ones(
    cluster: RedisCluster, make: Any
) -> None:
    """The race behind doubled writes and 500 TypeErrors: a slot-map refresh closed the
    connection another thread had just checked out (with a command in flight), and redis-py
    resent that command."""
    addon = make(max_connections=2)
    key = "{race}waiting"
    assert addon.get_key(key).code == 200
    client = addon.client()
    pool = client.get_node_from_key(key).redis_connection.connection_pool
    idle_drop_spares_checked_out(pool, pool.disconnect_free_connections, key)


def test_listing_paged_across_a_resharding_is_refused_then_restarts_exact(
    cluster: RedisCluster, make: Any
) -> None:
    """A cursor handed out before a slot moved is refused (410, restart from "0"); the listing
    restarted after the move lists every key exactly once."""
    addon = make()
    names = [f"page:{i}" for i in range(2000)]
    assert addon.set_many({name: 1 for name in names}).code == 200
    first = addon.list_keys(pattern="page:*", limit=200)
    assert (first.code, first.output.truncated) == (200, True)
    moved = slot_of(cluster, names[0])
    source = cluster.node_of(names[0])
    target = next(node for node in cluster.primary_nodes() if node is not source)
    move_slot(moved, source, target, cluster.primary_nodes())

    refused = addon.list_keys(pattern="page:*", limit=200, cursor=first.output.cursor)
    assert refused.code == 410, refused.message
    assert "the cluster changed since this listing began" in refused.message
    assert 'restart from cursor "0"' in refused.message
    assert refused.output.keys is None  # a failed step states no facts

    listed: list[str] = []
    cursor = "0"
    for _ in range(100):  # bounded
        page = addon.list_keys(pattern="page:*", limit=200, cursor=cursor)
        assert page.code == 200, page.message
        listed += page.output.keys
        cursor = page.output.cursor
        if cursor == "0":
            break
    assert sorted(listed) == sorted(names)


def test_killed_primary_under_writers_loses_and_doubles_nothing(
    cluster: RedisCluster, make: Any
) -> None:
    """4 writer threads while the primary of their slot is killed (kill -9) and its replica
    takes over; writes resume on the same addon. Last in this module: it changes the cluster."""
    addon = make(socket_timeout=1, max_connections=4)
    ledger = Ledger(addon, "kill")
    victim = cluster.node_of(ledger.counter(0))
    at_kill: list[int] = []

    def kill() -> None:
        time.sleep(0.5)
        at_kill.append(len(ledger.counters.acknowledged))
        victim.kill()

    killer = threading.Thread(target=kill)
    killer.start()

    def resumed() -> bool:  # RESUMED acknowledged increments on the promoted replica
        return bool(at_kill) and len(ledger.counters.acknowledged) > at_kill[0] + RESUMED

    run_writers(4, ledger.write, resumed)
    killer.join()
    assert resumed(), "writes never resumed on the promoted replica"
    figures = ledger.check(reader(cluster), 4)
    print("kill -9 under writers:", figures)
    refused = {**ledger.counters.messages, **ledger.pushes.messages}.get(503, "")
    assert f"cannot reach node 127.0.0.1:{victim.port} of Redis Cluster" in refused
    assert "host and port" not in refused
