"""Cluster and sentinel options, their errors and the deployment check, without servers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from redis import exceptions as rx
from redis.cluster import RedisCluster
from redis.sentinel import MasterNotFoundError

from conftest import entry
from redis_rooms_pkg.actions.server_info import _human
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.cli.check import Probe, StageError, primary, slots
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import parse_address
from redis_rooms_pkg.services.client import build_client, check_deployment
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import (
    ClusterNotServingError,
    NoPrimaryKnownError,
    describe,
)

TARGET = "Redis Cluster at 10.0.0.1:6379"


def config(**options: Any) -> CustomAddonConfig:
    return CustomAddonConfig(**entry(**options))


@pytest.mark.parametrize(
    ("text", "address"),
    [
        pytest.param("10.0.0.1:7000", ("10.0.0.1", 7000), id="ipv4"),
        pytest.param(" cache.internal:6379 ", ("cache.internal", 6379), id="name-trimmed"),
        pytest.param("[::1]:7001", ("::1", 7001), id="ipv6"),
    ],
)
def test_host_port_addresses_parse(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize(
    "text", ["10.0.0.1", ":7000", "host:", "host:http", "host:0", "host:65536", "host:-1"]
)
def test_bad_addresses_are_refused_at_load(text: str) -> None:
    with pytest.raises(ValidationError, match='is not a "host:port" address'):
        config(mode="cluster", startup_nodes=["10.0.0.2:7000", text])


def test_cluster_defaults_to_host_and_port() -> None:
    loaded = config(mode="cluster", host="10.0.0.9", port=7005)
    assert loaded.cluster_nodes() == [("10.0.0.9", 7005)]
    assert loaded.describe_target() == "Redis Cluster at 10.0.0.9:7005"
    listed = config(mode="cluster", startup_nodes=["a:1", "b:2", "c:3"])
    assert listed.cluster_nodes() == [("a", 1), ("b", 2), ("c", 3)]
    assert listed.describe_target() == "Redis Cluster at a:1 (+2 more)"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        pytest.param({"mode": "sentinel"}, "needs sentinels", id="sentinel-nothing"),
        pytest.param(
            {"mode": "sentinel", "sentinels": ["s:26379"]}, "and sentinel_master", id="no-master"
        ),
        pytest.param(
            {"mode": "sentinel", "sentinel_master": "rooms"}, "needs sentinels", id="no-sentinels"
        ),
        pytest.param({"mode": "cluster", "db": 3}, "only has database 0", id="cluster-db"),
        pytest.param(
            {"startup_nodes": ["a:1"]}, "only apply to mode 'cluster'", id="nodes-standalone"
        ),
        pytest.param(
            {
                "mode": "sentinel",
                "sentinels": ["s:1"],
                "sentinel_master": "m",
                "read_from_replicas": True,
            },
            "read_from_replicas only apply to mode 'cluster'",
            id="replicas-sentinel",
        ),
        pytest.param(
            {"mode": "cluster", "sentinel_master": "m"},
            "sentinel_master only apply to mode 'sentinel'",
            id="master-cluster",
        ),
        pytest.param(
            {"mode": "sentinel", "sentinels": ["s:1"], "sentinel_master": ""},
            "sentinel_master",
            id="empty-master",
        ),
    ],
)
def test_inconsistent_mode_options_are_refused_at_load(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        config(**options)
    assert RedisRoomsAddon().loadAddonConfig(entry(**options)) is False


def test_defaults_of_other_modes_may_be_spelt_out() -> None:
    loaded = config(read_from_replicas=False, sentinels=[], startup_nodes=[])
    assert loaded.mode == "standalone"


def test_sentinel_target_names_service_and_sentinels() -> None:
    loaded = config(mode="sentinel", sentinels=["s1:26379", "s2:26379"], sentinel_master="rooms")
    assert loaded.sentinel_addresses() == [("s1", 26379), ("s2", 26379)]
    assert loaded.describe_target() == (
        "Redis primary 'rooms' via sentinels s1:26379, s2:26379 (db 0)"
    )


def test_sentinel_password_is_a_known_secret() -> None:
    loaded = CustomAddonConfig(
        **{
            **entry(mode="sentinel", sentinels=["s:1"], sentinel_master="m"),
            "secrets": {
                "redis_password": "REDIS_PASSWORD",
                "redis_sentinel_password": "REDIS_SENTINEL_PASSWORD",
            },
        }
    )
    assert set(loaded.secrets) == {"redis_password", "redis_sentinel_password"}


def test_sentinel_client_keeps_both_passwords_apart() -> None:
    loaded = config(
        mode="sentinel",
        sentinels=["s1:26379", "s2:26380"],
        sentinel_master="rooms",
        sentinel_username="watcher",
        username="app",
        ssl=True,
        db=2,
    )
    credentials = Credentials()
    credentials.load({"redis_password": "data-pw", "redis_sentinel_password": "sentinel-pw"})
    client = build_client(loaded, credentials)  # opens no socket
    pool = client.connection_pool
    assert pool.service_name == "rooms"
    assert (pool.connection_kwargs["password"], pool.connection_kwargs["username"]) == (
        "data-pw",
        "app",
    )
    assert pool.connection_kwargs["db"] == 2
    sentinels = pool.sentinel_manager.sentinels
    assert [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in sentinels
    ] == [("s1", 26379), ("s2", 26380)]
    kwargs = sentinels[0].connection_pool.connection_kwargs
    assert (kwargs["password"], kwargs["username"]) == ("sentinel-pw", "watcher")
    assert sentinels[0].connection_pool.connection_class.__name__ == "SSLConnection"
    assert "sentinel-pw" not in repr(client)
    assert "data-pw" not in repr(client)


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        pytest.param(
            NoPrimaryKnownError("rooms", answered=3, monitored=True, failures=[]),
            503,
            "failover is in progress",
            id="failover",
        ),
        pytest.param(
            MasterNotFoundError("No master found for 'rooms'"),
            503,
            "failover is in progress",
            id="redis-py-own",
        ),
        pytest.param(
            NoPrimaryKnownError("nope", answered=2, monitored=False, failures=[]),
            400,
            "no sentinel monitors a service named 'nope': check sentinel_master",
            id="unknown-service",
        ),
        pytest.param(
            NoPrimaryKnownError(
                "rooms",
                answered=0,
                monitored=False,
                failures=[rx.ConnectionError("x"), rx.AuthenticationError("invalid")],
            ),
            401,
            "redis_sentinel_password",
            id="sentinel-auth",
        ),
        pytest.param(
            NoPrimaryKnownError(
                "rooms", answered=0, monitored=False, failures=[rx.TimeoutError("t")]
            ),
            503,
            "cannot reach any sentinel",
            id="sentinels-unreachable",
        ),
        pytest.param(
            NoPrimaryKnownError("rooms", answered=0, monitored=False, failures=[]),
            503,
            "none configured",
            id="no-failure-recorded",
        ),
        pytest.param(
            rx.ClusterDownError("CLUSTERDOWN The cluster is down"),
            503,
            "is down (CLUSTERDOWN)",
            id="cluster-down",
        ),
        pytest.param(
            rx.SlotNotCoveredError("slot 5 not covered"), 503, "16384 hash slots", id="slot"
        ),
        pytest.param(
            rx.RedisClusterException("All slots are not covered"),
            503,
            "a primary may be down",
            id="not-covered",
        ),
        pytest.param(
            ClusterNotServingError("10.0.0.1:6379", 10000),
            503,
            "serves 10000 of 16384",
            id="not-serving",
        ),
    ],
)
def test_failover_and_cluster_errors(exc: BaseException, code: int, says: str) -> None:
    got_code, message = describe(exc, TARGET, 5)
    assert (got_code, says in message) == (code, True), message


def test_cluster_exception_with_a_cause_is_told_by_its_cause() -> None:
    outer = rx.RedisClusterException("Redis Cluster cannot be connected")
    outer.__cause__ = rx.AuthenticationError("invalid username-password pair")
    assert describe(outer, TARGET, 5)[0] == 401


class StubCluster(RedisCluster):
    """A RedisCluster that answers CLUSTER INFO from a canned reply (no sockets)."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply

    def cluster_info(self, target_nodes: Any = None) -> dict[str, Any]:
        return self.reply


def info(state: str = "ok", covered: int = 16384) -> dict[str, str]:
    return {"cluster_state": state, "cluster_slots_ok": str(covered)}


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param({"a:1": info(), "b:2": info("fail", 10000)}, id="one-primary-failing"),
        pytest.param({"a:1": info(), "b:2": info("ok", 16000)}, id="slots-missing"),
        pytest.param(info("fail", 0), id="single-primary"),
    ],
)
def test_deployment_check_needs_every_slot(reply: dict[str, Any]) -> None:
    with pytest.raises(ClusterNotServingError):
        check_deployment(StubCluster(reply))


@pytest.mark.parametrize(
    "reply",
    [pytest.param({"a:1": info(), "b:2": info()}, id="all"), pytest.param(info(), id="one")],
)
def test_deployment_check_passes_when_every_slot_is_served(reply: dict[str, Any]) -> None:
    check_deployment(StubCluster(reply))


def test_single_server_refuses_a_cluster_cursor(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("k", "v")
    response = embedded.list_keys(cursor="5461:12")
    assert response.code == 400
    assert "is not from this deployment" in response.message
    assert embedded.list_keys(cursor="0").output.keys == ["k"]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        pytest.param(512, "512B", id="bytes"),
        pytest.param(2048, "2.00K", id="kib"),
        pytest.param(6_124_832, "5.84M", id="mib"),
        pytest.param(3 * 1024**3, "3.00G", id="gib"),
        pytest.param(5 * 1024**4, "5.00T", id="tib"),
    ],
)
def test_summed_memory_is_written_like_redis(size: int, text: str) -> None:
    assert _human(size) == text


def test_cluster_url_is_the_startup_node() -> None:
    loaded = config(mode="cluster", url="rediss://app@cache.example.com:7010")
    assert loaded.cluster_nodes() == [("cache.example.com", 7010)]
    assert loaded.describe_target() == "Redis Cluster at cache.example.com:7010"
    assert config(mode="cluster", url="redis://cache").cluster_nodes() == [("cache", 6379)]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        pytest.param(
            {"mode": "sentinel", "sentinels": ["s:1"], "sentinel_master": "m",
             "url": "redis://primary:6379"},
            "the sentinels name the primary",
            id="sentinel-url",
        ),
        pytest.param(
            {"mode": "cluster", "url": "unix:///run/redis.sock"},
            "reached over TCP",
            id="cluster-unix",
        ),
    ],
)  # fmt: skip
def test_urls_that_cannot_name_the_deployment_are_refused(
    options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        config(**options)


def test_a_looping_cause_chain_is_followed_once() -> None:
    outer = rx.RedisClusterException("Redis Cluster cannot be connected")
    inner = rx.ConnectionError("Error connecting")
    outer.__cause__ = inner
    inner.__context__ = outer  # as when the cause is re-raised inside the handler
    code, message = describe(inner, TARGET, 5)  # returns: no endless walk round the loop
    assert code == 503
    assert message.startswith(f"cannot reach {TARGET}: connection failed")


# --- redis-rooms check: the mode stages when the deployment is not serving --------------------


class StubAddon:
    """Just enough of RedisRoomsAddon for a check stage: a client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self) -> Any:
        return self._client


class StubSentinelClient:
    """A sentinel-mode client whose named primary answers as a replica (mid-failover)."""

    class connection_pool:  # noqa: N801 - stands in for the attribute redis-py has
        service_name = "rooms"

        class sentinel_manager:  # noqa: N801
            @staticmethod
            def discover_slaves(service: str) -> list[tuple[str, int]]:
                return []

        @staticmethod
        def get_master_address() -> tuple[str, int]:
            return ("10.0.0.5", 6379)

    @staticmethod
    def info(section: str) -> dict[str, str]:
        return {"role": "slave"}


def test_check_slots_stage_fails_on_uncovered_slots() -> None:
    loaded = config(mode="cluster", startup_nodes=["10.0.0.1:6379"])
    probe = Probe(StubAddon(StubCluster({"a:1": info("fail", 10000)})), loaded)
    with pytest.raises(StageError) as failed:
        slots(probe)
    assert "serves 10000 of 16384" in failed.value.detail
    assert "wait for a replica to take over" in failed.value.fix


def test_check_primary_stage_fails_when_the_named_primary_is_a_replica() -> None:
    loaded = config(mode="sentinel", sentinels=["s:26379"], sentinel_master="rooms")
    with pytest.raises(StageError) as failed:
        primary(Probe(StubAddon(StubSentinelClient()), loaded))
    assert failed.value.detail == (
        "the sentinels name 10.0.0.5:6379 as primary of 'rooms', but it answers as a slave"
    )


@pytest.mark.parametrize(
    ("options", "says"),
    [
        pytest.param(
            {"mode": "sentinel", "sentinels": ["s:1"], "sentinel_master": "m", "host": "10.0.0.9"},
            "host names one server",
            id="sentinel-host",
        ),
        pytest.param(
            {"mode": "sentinel", "sentinels": ["s:1"], "sentinel_master": "m", "port": 6380},
            "port names one server",
            id="sentinel-port",
        ),
        pytest.param(
            {"mode": "cluster", "url": "redis://cache:7000/2"},
            "only has database 0",
            id="cluster-url-db",
        ),
    ],
)
def test_single_server_options_are_refused_where_they_mean_nothing(
    options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        config(**options)


def test_cluster_url_with_database_zero_is_fine() -> None:
    assert config(mode="cluster", url="redis://cache:7000/0").cluster_nodes() == [("cache", 7000)]
