"""Fixtures shared by the whole suite: addons, real servers, deployments; the integration marker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loguru import logger

from deployments import RedisCluster, SentinelDeployment
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import REDIS_STACK_SERVER, RedisServer, SilentServer

PASSWORD = "pw-Zq8!redis-test-secret"  # the integration servers' password
SENTINEL_PASSWORD = "sentinel-Kp3!test-secret"  # the test sentinels' own password

# TLS, unix-socket and README-entry fixtures; the backend-parametrised addons of tests/actions/
pytest_plugins = ["managed_fixtures", "backends"]


# Fixtures that start or share a real redis-server (or cluster, sentinels, TLS/unix servers).
REAL_SERVER_FIXTURES = frozenset(
    {
        "redis_server",
        "server",
        "real_addon",
        "redis_cluster",
        "cluster",
        "sentinel_deployment",
        "sentinel_primary",
        "tls_server",
        "mtls_server",
        "wrong_host_server",
        "unix_server",
        "stack_server",
        "stack",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a real server is an integration test: mark it so, wherever it lives.

    Real means a fixture of REAL_SERVER_FIXTURES, the "server" side of the backend-parametrised
    fixtures of tests/actions/, or a module that starts its own servers (``pytestmark``).
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if backend == "server" or REAL_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def entry(**options: Any) -> dict[str, Any]:
    """An addon entry shaped like the spec's: options inside "config"."""
    return {
        "id": options.pop("id", "redis-cache"),
        "type": "redis",
        "name": "Redis Cache",
        "enabled": True,
        "config": options,
        "secrets": {"redis_password": "REDIS_PASSWORD"},
    }


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log record at every level (TRACE up), with its bound extras and any exception."""
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(str(message)),
        level="TRACE",
        format="{level} {name}:{function} {message} {extra} {exception}",
        backtrace=True,
        diagnose=True,
    )
    yield lines
    logger.remove(sink)


@pytest.fixture
def embedded() -> Iterator[RedisRoomsAddon]:
    """An addon on its own in-process fakeredis server."""
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(mode="embedded"))
    yield addon
    addon.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server with a password, shared by the session's integration tests."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), password=PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:
    """The shared real server, emptied for this test (and restarted if a test stopped it)."""
    if redis_server.proc is None:
        redis_server.start()
    redis_server.client().flushall()
    return redis_server


@pytest.fixture(scope="session")
def stack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis Stack server (Redis 7.4 with RedisJSON and RediSearch) with a password,
    shared by the session: the JSON, vector and semantic-cache actions run on it."""
    server = RedisServer(
        tmp_path_factory.mktemp("stack"), password=PASSWORD, binary=str(REDIS_STACK_SERVER)
    ).start()
    yield server
    server.stop()


@pytest.fixture
def stack(stack_server: RedisServer) -> RedisServer:
    """The shared Redis Stack server, emptied for this test (indexes too)."""
    if stack_server.proc is None:
        stack_server.start()
    client = stack_server.client()
    for index in client.execute_command("FT._LIST"):
        client.execute_command("FT.DROPINDEX", index)
    client.flushall()
    return stack_server


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which Redis a backend-parametrised test runs on: the in-process embedded one, or a real
    server (the session's; such test IDs end in ``[server]`` and are marked integration)."""
    return request.param


@pytest.fixture
def make_addon() -> Iterator[Callable[..., RedisRoomsAddon]]:
    """Build configured addons the way the engine does; all are closed after the test."""
    made: list[RedisRoomsAddon] = []

    def build(password: str | None = None, **options: Any) -> RedisRoomsAddon:
        addon = RedisRoomsAddon()
        assert addon.loadAddonConfig(entry(**options))
        if password is not None:
            assert addon.loadCredentials(redis_password=password)
        made.append(addon)
        return addon

    yield build
    for addon in made:
        addon.close()


@pytest.fixture
def real_addon(server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]) -> RedisRoomsAddon:
    """An addon connected to the real server with the right password."""
    return make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A real Redis Cluster (3 primaries, 3 replicas) with a password, shared by the session;
    tests that kill nodes use their own cluster."""
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster"), password=PASSWORD).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster(redis_cluster: RedisCluster) -> RedisCluster:
    """The shared cluster, emptied for this test."""
    redis_cluster.flush()
    return redis_cluster


@pytest.fixture(scope="session")
def sentinel_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelDeployment]:
    """A real primary, replica and three sentinels, all with passwords, shared by the session;
    tests that kill processes use their own deployment."""
    started = SentinelDeployment(
        tmp_path_factory.mktemp("sentinel"), PASSWORD, SENTINEL_PASSWORD
    ).start()
    yield started
    started.stop()


@pytest.fixture
def sentinel_primary(sentinel_deployment: SentinelDeployment) -> SentinelDeployment:
    """The shared sentinel deployment, its primary emptied for this test."""
    assert sentinel_deployment.primary is not None
    sentinel_deployment.primary.client().flushall()
    return sentinel_deployment
