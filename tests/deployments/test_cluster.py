"""Cluster mode on a real 3-primary, 3-replica Redis Cluster with passwords: the README's entry,
listing every key of every node, slot-spread batches, prefixes, health and failover."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import PASSWORD
from deployments import RedisCluster, readme_entry, wait_for
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import Certificates, free_port

pytestmark = pytest.mark.integration  # some tests start their own redis-server

MakeAddon = Callable[..., RedisRoomsAddon]
MANY = 10_000
RECOVERY_TIMEOUT = 30.0  # s, bound on waiting for actions to succeed again after a failover


def cluster_addon(cluster: RedisCluster, **options: Any) -> RedisRoomsAddon:
    """An addon loaded from the README's cluster entry, pointed at ``cluster``'s nodes."""
    entry = readme_entry("cluster", startup_nodes=cluster.startup_nodes[:3], **options)
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry)
    assert addon.loadCredentials(redis_password=PASSWORD)
    return addon


@pytest.fixture
def make(cluster: RedisCluster) -> Iterator[Callable[..., RedisRoomsAddon]]:
    made: list[RedisRoomsAddon] = []

    def build(**options: Any) -> RedisRoomsAddon:
        made.append(cluster_addon(cluster, **options))
        return made[-1]

    yield build
    for addon in made:
        addon.close()


def per_node_counts(cluster: RedisCluster) -> dict[int, int]:
    return {node.port: node.client().dbsize() for node in cluster.primary_nodes()}


def page_through(addon: RedisRoomsAddon, **params: Any) -> tuple[list[list[str]], list[str]]:
    """Every page and cursor of a listing, following cursors until "0" (bounded)."""
    pages, cursors, cursor = [], [], "0"
    for _ in range(MANY):
        response = addon.list_keys(cursor=cursor, **params)
        assert response.code == 200, response.message
        pages.append(response.output.keys)
        cursor = response.output.cursor
        cursors.append(cursor)
        if cursor == "0":
            return pages, cursors
    raise AssertionError("listing did not finish")


def test_ten_thousand_keys_over_every_node_listed_exactly(
    cluster: RedisCluster, make: MakeAddon
) -> None:
    addon = make()
    names = [f"item:{i}" for i in range(MANY)]
    written = addon.set_many({name: i for i, name in enumerate(names)})
    assert (written.code, written.output.count) == (200, MANY), written.message
    assert addon.set_key("other", "x").code == 200
    counts = per_node_counts(cluster)
    assert len(counts) == 3
    assert all(count > 2000 for count in counts.values()), counts
    slots = {cluster.nodes[0].client().cluster("keyslot", name) for name in names[:2000]}
    assert len(slots) > 1500  # spread over the whole slot range, not a few hash tags
    for node in cluster.primary_nodes():
        node.client().config_resetstat()

    everything = addon.list_keys("item:*", limit=100_000)
    assert (everything.code, everything.output.cursor, everything.output.truncated) == (
        200,
        "0",
        False,
    )
    assert sorted(everything.output.keys) == sorted(names)

    pages, cursors = page_through(addon, pattern="item:*", limit=700)
    listed = [key for page in pages for key in page]
    assert len(listed) == MANY  # no key twice ...
    assert set(listed) == set(names)  # ... and none lost
    assert len(pages) >= MANY // (700 + 1000)
    assert all(":" in cursor for cursor in cursors[:-1])  # "<slot>:<cursor>"
    for node in cluster.primary_nodes():
        stats = node.client().info("commandstats")
        assert "cmdstat_keys" not in stats
        assert stats["cmdstat_scan"]["calls"] >= 2  # every primary was scanned


def test_batches_across_slots(cluster: RedisCluster, make: MakeAddon) -> None:
    addon = make()
    items = {f"user:{i}": {"n": i} for i in range(MANY)}
    assert addon.set_many(items, encoding="json").output.count == MANY
    got = addon.get_many(list(items), encoding="json")
    assert got.code == 200, got.message
    assert got.output.found_count == MANY
    assert got.output.data == items
    assert addon.get_many(["absent", "user:7"]).output.values == {
        "absent": None,
        "user:7": '{"n":7}',
    }
    exists = addon.exists_key(["user:1", "user:9999", "absent"])
    assert exists.output.exists == {"user:1": True, "user:9999": True, "absent": False}
    some = [f"user:{i}" for i in range(0, MANY, 3)]
    deleted = addon.delete_key(keys=[*some, "absent"])
    assert (deleted.code, deleted.output.deleted_count) == (200, len(some))
    ex = addon.set_many({"a": 1, "b": 2, "c": 3}, ex=100, nx=True)
    assert (ex.code, ex.output.count) == (200, 3)
    assert all(90 < addon.get_ttl(k).output.ttl <= 100 for k in "abc")
    wiped = addon.delete_matching("user:*")
    assert (wiped.code, wiped.output.deleted_count) == (200, MANY - len(some))
    assert sum(per_node_counts(cluster).values()) == 3


def test_delete_matching_limit_spans_nodes(cluster: RedisCluster, make: MakeAddon) -> None:
    addon = make()
    addon.set_many({f"tmp:{i}": i for i in range(3000)})
    first = addon.delete_matching("tmp:*", limit=2500)
    assert (first.output.deleted_count, first.output.truncated) == (2500, True)
    rest = addon.delete_matching("tmp:*", limit=2500)
    assert (rest.output.deleted_count, rest.output.truncated) == (500, False)
    assert sum(per_node_counts(cluster).values()) == 0


def test_key_prefix_isolates_addons_sharing_a_cluster(
    cluster: RedisCluster, make: MakeAddon
) -> None:
    one, two = make(key_prefix="wf1:"), make(key_prefix="wf2:")
    assert one.set_many({f"k{i}": i for i in range(500)}).code == 200
    assert two.set_many({f"k{i}": -i for i in range(300)}).code == 200
    listed = one.list_keys(limit=100_000)
    assert sorted(listed.output.keys) == sorted(f"k{i}" for i in range(500))
    assert two.get_many(["k1", "k499"]).output.values == {"k1": "-1", "k499": None}
    assert two.delete_matching("*", allow_all=True).output.deleted_count == 300
    assert one.list_keys(limit=100_000).output.count == 500
    assert sum(per_node_counts(cluster).values()) == 500


@pytest.mark.parametrize(
    ("cursor", "says"),
    [
        pytest.param("1520", "not from this deployment", id="standalone-cursor"),
        pytest.param("5461:x", "invalid input", id="malformed"),
        pytest.param("16384:1", "names no hash slot", id="no-such-slot"),
    ],
)
def test_foreign_cursor_is_400(make: MakeAddon, cursor: str, says: str) -> None:
    response = make().list_keys(cursor=cursor)
    assert response.code == 400
    assert says in response.message


def test_read_from_replicas_reads_replicas(cluster: RedisCluster, make: MakeAddon) -> None:
    writer = make()
    assert writer.set_many({f"r{i}": i for i in range(300)}).code == 200
    for node in cluster.primary_nodes():
        node.client().wait(1, 5000)  # each replica has the keys
    replicas = [node for node in cluster.running() if node not in cluster.primary_nodes()]
    for node in replicas:
        node.client().config_resetstat()
    reader = make(read_from_replicas=True)
    for i in range(60):
        got = reader.get_key(f"r{i}")
        assert (got.code, got.output.value) == (200, str(i)), got.message
    served = sum(
        node.client().info("commandstats").get("cmdstat_get", {}).get("calls", 0)
        for node in replicas
    )
    assert served > 0


def test_health_check_covers_the_whole_cluster(cluster: RedisCluster, make: MakeAddon) -> None:
    assert make().test() is True
    wrong = make()
    wrong.loadCredentials(redis_password="not-the-password")
    assert wrong.test() is False
    response = wrong.get_key("k")
    assert response.code == 401
    assert "rejected the credentials" in response.message
    assert "not-the-password" not in response.message
    wrong.close()


def test_no_reachable_startup_node_is_503(make_addon: MakeAddon) -> None:
    addon = make_addon(
        password=PASSWORD,
        mode="cluster",
        startup_nodes=[f"127.0.0.1:{free_port()}"],
        socket_connect_timeout=1,
        retry_attempts=0,
    )
    response = addon.set_key("k", "v")
    assert response.code == 503
    assert "cannot reach Redis Cluster at" in response.message
    assert "connection refused" in response.message
    assert addon.test() is False


def test_a_killed_primary_is_replaced_and_actions_resume(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Its own cluster: nodes are killed here."""
    cluster = RedisCluster(tmp_path_factory.mktemp("failover-cluster"), password=PASSWORD).start()
    addon = cluster_addon(cluster, socket_timeout=1, socket_connect_timeout=1)
    try:
        items = {f"before:{i}": i for i in range(1000)}
        assert addon.set_many(items).code == 200
        victim = cluster.node_of("before:1")
        victim.client().wait(1, 5000)  # its replica has every key before the crash
        victim.kill()

        codes = resume(addon, "after:1")
        assert set(codes) <= {200, 503}, codes  # while it re-forms: 503 with a message, no crash
        wait_for(lambda: addon.test(), "test() to pass again", RECOVERY_TIMEOUT)
        assert addon.get_many(list(items)).output.found_count == 1000
        assert sorted(addon.list_keys("before:*", limit=100_000).output.keys) == sorted(items)
        assert addon.get_key("after:1").output.value == "v"

        # the promoted replica has no replica of its own: killing it leaves slots uncovered
        cluster.node_of("before:1").kill()
        elsewhere = next(k for k in items if cluster.node_of(k).proc is not None)
        response = wait_for_message(addon, elsewhere, "is down")
        assert response.code == 503
        assert "no replica has taken over" in response.message
        assert addon.test() is False
    finally:
        addon.close()
        cluster.stop()


def resume(addon: RedisRoomsAddon, key: str) -> list[int]:
    """Write ``key`` until it succeeds (bounded); the codes of every attempt."""
    codes: list[int] = []
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while time.monotonic() < deadline:
        codes.append(addon.set_key(key, "v").code)
        if codes[-1] == 200:
            return codes
        time.sleep(0.1)
    raise AssertionError(f"actions did not resume within {RECOVERY_TIMEOUT:g}s: {codes[-5:]}")


def wait_for_message(addon: RedisRoomsAddon, key: str, says: str) -> Any:
    """Read ``key`` until the answer's message says ``says`` (bounded); that answer."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while time.monotonic() < deadline:
        response = addon.get_key(key)
        if says in response.message:
            return response
        time.sleep(0.1)
    raise AssertionError(f"get_key never said {says!r}: last {response.code} {response.message}")


def test_server_info_covers_every_primary(cluster: RedisCluster, make: MakeAddon) -> None:
    addon = make()
    addon.set_many({f"i{i}": i for i in range(300)})
    addon.set_key("temp", "x", ex=100)
    response = addon.server_info(section="memory")
    assert response.code == 200, response.message
    out = response.output
    assert (out.mode, out.role) == ("cluster", "master")
    assert out.keyspace["db0"]["keys"] == 301  # every primary's keys, not one node's
    assert out.keyspace["db0"]["expires"] == 1
    primaries = sorted(f"127.0.0.1:{node.port}" for node in cluster.primary_nodes())
    assert sorted(out.info) == primaries
    assert all("used_memory_peak" in section for section in out.info.values())
    singles = [node.client().info("memory")["used_memory"] for node in cluster.primary_nodes()]
    assert out.used_memory > max(singles)  # the sum over the primaries
    assert out.used_memory_human.endswith(("K", "M", "G"))
    assert "over 3 primaries" in response.message


def test_password_never_shows(cluster: RedisCluster, make: MakeAddon, log_lines: list[str]) -> None:
    good = make()
    wrong = make(retry_attempts=0)
    wrong.loadCredentials(redis_password=PASSWORD + "-not")
    responses = []
    for addon in (good, wrong):
        responses += [addon.set_many({"a": 1, "b": 2}), addon.get_many(["a", "b"])]
        responses += [addon.list_keys(), addon.delete_matching("*", allow_all=True)]
        addon.test()
    assert {r.code for r in responses} == {200, 401}
    texts = [
        *log_lines,
        *(r.model_dump_json() for r in responses),
        repr(good),
        repr(good.client()),
        repr(good.client().get_primaries()),
        good.config.model_dump_json(),
    ]
    assert log_lines
    for text in texts:
        assert PASSWORD not in text
    wrong.close()


def test_tls_and_client_name_reach_every_node(
    tmp_path_factory: pytest.TempPathFactory, certs: Certificates
) -> None:
    """A TLS-only cluster: ssl and the CA apply to every node the slot map names."""
    cluster = RedisCluster(
        tmp_path_factory.mktemp("cluster-tls"), password=PASSWORD, certs=certs
    ).start()
    secure = cluster_addon(cluster, ssl=True, ssl_ca_certs=str(certs.ca))
    plain = cluster_addon(cluster, retry_attempts=0, socket_timeout=1)
    try:
        assert secure.test() is True
        written = secure.set_many({f"t{i}": i for i in range(300)})
        assert (written.code, written.output.count) == (200, 300)
        assert secure.list_keys(limit=1000).output.count == 300
        for node in cluster.primary_nodes():
            names = {client["name"] for client in node.client().client_list()}
            assert "rooms:redis-cache" in names  # the default client_name, on every primary
        assert plain.get_key("t1").code == 503
    finally:
        secure.close()
        plain.close()
        cluster.stop()


def test_node_pools_are_bounded_under_load(cluster: RedisCluster, make: MakeAddon) -> None:
    """50 threads share at most max_connections connections per node; none fails."""
    # A name of its own: connections of other tests' addons are not counted.
    addon = make(max_connections=4, client_name="rooms:bounded-load")
    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(lambda i: addon.set_key(f"load:{i}", i).code, range(1000)))
    assert codes == [200] * 1000
    for node in cluster.primary_nodes():
        names = [c["name"] for c in node.client().client_list()]
        assert 1 <= names.count("rooms:bounded-load") <= 4
    assert addon.list_keys("load:*", limit=2000).output.count == 1000


def test_one_mset_per_hash_slot(cluster: RedisCluster, make: MakeAddon) -> None:
    addon = make()
    primaries = cluster.primary_nodes()

    def msets() -> int:
        stats = [node.client().info("commandstats") for node in primaries]
        return sum(stat.get("cmdstat_mset", {}).get("calls", 0) for stat in stats)

    for node in primaries:
        node.client().config_resetstat()
    assert addon.set_many({"{user:42}:profile": "p", "{user:42}:cart": "c"}).code == 200
    assert msets() == 1  # one slot: one atomic MSET
    keys = [f"spread:{i}" for i in range(20)]
    slots = {cluster.nodes[0].client().cluster("keyslot", key) for key in keys}
    assert addon.set_many(dict.fromkeys(keys, "v")).code == 200
    assert msets() == 1 + len(slots)
