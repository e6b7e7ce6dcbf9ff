"""The one place that builds Redis clients from an addon's configuration and secrets."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import weakref
from collections.abc import Callable
from typing import Any

import redis
from redis._parsers.socket import SERVER_CLOSED_CONNECTION_ERROR  # redis-py's EOF message
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import (
    REDIS_CLUSTER_HASH_SLOTS,
    ClusterNode,
    LoadBalancingStrategy,
    RedisCluster,
)
from redis.connection import (
    BlockingConnectionPool,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.exceptions import ClusterDownError, SlotNotCoveredError
from redis.retry import Retry
from redis.sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)

from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import (
    AddonError,
    ClosedBeforeReplyError,
    ClusterNotServingError,
    NoPrimaryKnownError,
    TLSHandshakeTimeoutError,
)
from redis_rooms_pkg.services.failover import DropsIdleSafely, FailoverWatch, FollowsFailovers

RETRY_BACKOFF_BASE = 0.05  # s, first backoff step
RETRY_BACKOFF_CAP = 1.0  # s, longest backoff step

ClientBuilder = Callable[[CustomAddonConfig, Credentials], redis.Redis]


def retry_policy(config: CustomAddonConfig) -> Retry:
    """Retry on connection errors only: a timed-out command may have run, so it is not resent."""
    return Retry(
        ExponentialWithJitterBackoff(base=RETRY_BACKOFF_BASE, cap=RETRY_BACKOFF_CAP),
        retries=config.retry_attempts,
        supported_errors=(redis.ConnectionError,),
    )


class _FirstReplyWatch:
    """Marks a connection the server drops before its first reply (a TLS port, mTLS refusal)."""

    _awaiting_first_reply = False

    def _connect(self) -> socket.socket:
        self._awaiting_first_reply = False
        sock = super()._connect()  # type: ignore[misc]
        self._awaiting_first_reply = True
        return sock

    def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except redis.ConnectionError as exc:
            self._raise_if_dropped(exc)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except redis.ConnectionError as exc:
            self._raise_if_dropped(exc)
            raise
        self._awaiting_first_reply = False
        return response

    def _raise_if_dropped(self, exc: redis.ConnectionError) -> None:
        if not self._awaiting_first_reply:
            return
        dropped = isinstance(exc.__cause__ or exc.__context__, OSError) or (
            str(exc) == SERVER_CLOSED_CONNECTION_ERROR
        )
        if dropped:
            self._awaiting_first_reply = False
            raise ClosedBeforeReplyError(str(exc), tls=isinstance(self, SSLConnection)) from exc


class AddonConnection(_FirstReplyWatch, Connection):
    """TCP connection."""


class AddonUnixConnection(UnixDomainSocketConnection):
    """Unix socket connection (no TLS there, so no first-reply watch)."""


class AddonSSLConnection(_FirstReplyWatch, SSLConnection):
    """TLS connection; a handshake that gets no answer is told apart from a TCP timeout."""

    def _wrap_socket_with_ssl(self, sock: socket.socket) -> socket.socket:
        try:
            return super()._wrap_socket_with_ssl(sock)
        except TimeoutError as exc:
            raise TLSHandshakeTimeoutError("no answer to the TLS handshake") from exc


class AddonPool(BlockingConnectionPool):
    """A bounded pool: callers wait for a free connection instead of opening more.

    It owns the private files its connections read (a client key given as a secret): they are
    removed by :func:`close_client`, or when the pool is garbage-collected or Python exits.
    """

    def __init__(self, *, private_files: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.private_files = private_files
        self._remove_files = weakref.finalize(self, _remove, private_files)

    def remove_private_files(self) -> None:
        self._remove_files()


def _private_file(text: str) -> str:
    """Write ``text`` to a new file only this user can read (mkstemp creates it 0600)."""
    fd, path = tempfile.mkstemp(prefix="rooms-redis-", suffix=".pem")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def _remove(paths: tuple[str, ...]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _secret(credentials: Credentials, key: str) -> str | None:
    value = credentials.get(key)
    return value.get_secret_value() if value else None


def _tls_options(config: CustomAddonConfig, credentials: Credentials) -> dict[str, Any]:
    """redis-py's ssl_* options; a client key given as a secret goes to a private temp file."""
    options: dict[str, Any] = {
        "ssl_cert_reqs": config.ssl_cert_reqs,
        "ssl_check_hostname": config.check_hostname(),
        "ssl_ca_certs": config.ssl_ca_certs,
        "ssl_ca_data": _secret(credentials, "redis_ca_cert") or config.ssl_ca_data,
        "ssl_certfile": config.ssl_certfile,
        "ssl_keyfile": config.ssl_keyfile,
    }
    key = _secret(credentials, "redis_client_key")
    if key:
        if not config.ssl_certfile:
            raise AddonError(
                400, "the redis_client_key secret needs ssl_certfile (the client certificate)"
            )
        options["ssl_keyfile"] = _private_file(key)
    return options


def connection_options(config: CustomAddonConfig, credentials: Credentials) -> dict[str, Any]:
    """The pool's connection options: url parts win over fields, secrets win over the url."""
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "db": config.db,
        "username": config.username,
        "decode_responses": config.decode_responses,
        "socket_timeout": config.socket_timeout,
        "socket_connect_timeout": config.socket_connect_timeout,
        "health_check_interval": config.health_check_interval,
        "client_name": (
            config.default_client_name() if config.client_name is None else config.client_name
        )
        or None,
        "retry": retry_policy(config),
    }
    if config.url is not None:
        options.update(parse_url(config.url.get_secret_value()))
    for key, option in (("redis_username", "username"), ("redis_password", "password")):
        value = _secret(credentials, key)
        if value:
            options[option] = value
    scheme = config.url_scheme()
    if scheme == "unix":
        options.pop("host", None)
        options.pop("port", None)
        options["connection_class"] = AddonUnixConnection
    elif config.uses_tls():
        options["connection_class"] = AddonSSLConnection
    else:
        options["connection_class"] = AddonConnection
    return options


def _with_tls(
    config: CustomAddonConfig, credentials: Credentials, options: dict[str, Any]
) -> tuple[str, ...]:
    """Add the ssl_* options when the connections use TLS; the private files that creates."""
    if options["connection_class"] is not AddonSSLConnection:
        return ()
    options.update(_tls_options(config, credentials))
    if options["ssl_keyfile"] and options["ssl_keyfile"] != config.ssl_keyfile:
        return (options["ssl_keyfile"],)
    return ()


def _pool_wait(config: CustomAddonConfig) -> float:
    """How long an action waits at most for a connection another action frees (s)."""
    return config.socket_connect_timeout + config.socket_timeout


def _standalone(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    pool = AddonPool(
        max_connections=config.max_connections,
        timeout=_pool_wait(config),
        private_files=private,
        **options,
    )
    return redis.Redis(connection_pool=pool)


def _owns_files(client: Any, private: tuple[str, ...]) -> Any:
    """Tie private files (a client key given as a secret) to ``client``'s life, as AddonPool."""
    client.remove_private_files = weakref.finalize(client, _remove, private)
    return client


class ClusterNodePool(DropsIdleSafely, BlockingConnectionPool):
    """A cluster node's bounded pool, safe when a slot-map refresh drops its idle connections."""


class AddonRedisCluster(RedisCluster):
    """redis-py's cluster client, resending a command after a timeout never.

    redis-py resends a command on any node ``TimeoutError`` (after refreshing the slot map),
    whatever the retry policy says: a write the frozen node had already run was applied twice.
    A timeout here is answered (504) as on a single server; connection errors, a cluster that is
    down or an uncovered slot are still retried with a fresh slot map.
    """

    ERRORS_ALLOW_RETRY = (redis.ConnectionError, ClusterDownError, SlotNotCoveredError)


def _cluster(config: CustomAddonConfig, credentials: Credentials) -> RedisCluster:
    """A RedisCluster client: it asks the startup nodes for the slot map (so it connects now).

    Every node gets what a single server gets: auth, TLS, timeouts, client name and a bounded,
    blocking pool of at most max_connections. Retries happen at cluster level (redis-py gives
    node connections none).
    """
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    for not_per_node in ("host", "port", "db", "retry", "health_check_interval"):
        options.pop(not_per_node, None)
    (host, port), *others = config.cluster_nodes()
    client = AddonRedisCluster(
        # redis-py builds node pools of connection_pool_class only for a cluster given by url:
        # the first startup node goes as one (host and port only, never a credential)
        url=f"redis://[{host}]:{port}" if ":" in host else f"redis://{host}:{port}",
        startup_nodes=[ClusterNode(host, port) for host, port in others],
        connection_pool_class=ClusterNodePool,
        max_connections=config.max_connections,
        timeout=_pool_wait(config),
        require_full_coverage=True,
        load_balancing_strategy=(
            LoadBalancingStrategy.ROUND_ROBIN if config.read_from_replicas else None
        ),
        retry=retry_policy(config),
        **options,
    )
    return _owns_files(client, private)


class AddonSentinel(Sentinel):
    """redis-py's Sentinel, telling apart why no primary was found (see NoPrimaryKnownError)."""

    watch: FailoverWatch | None = None  # the sentinels' announcements, once followed

    def discover_master(self, service_name: str) -> tuple[str, int]:
        failures: list[BaseException] = []
        monitored = stale = False
        for number, sentinel in enumerate(self.sentinels):
            try:
                masters = sentinel.sentinel_masters()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                failures.append(exc)
                continue
            state = masters.get(service_name)
            monitored = monitored or state is not None
            if state and self.check_master_state(state, service_name):
                if self.watch is not None and not self.watch.believed((state["ip"], state["port"])):
                    stale = True  # names a primary just replaced: this sentinel has not heard yet
                    continue
                # ask this sentinel first next time, as redis-py does
                self.sentinels[0], self.sentinels[number] = sentinel, self.sentinels[0]
                return state["ip"], state["port"]
        announced = self.watch.announced() if self.watch is not None else None
        if stale and announced is not None:  # the others have not heard of the switch yet
            return announced
        raise NoPrimaryKnownError(
            service_name,
            answered=len(self.sentinels) - len(failures),
            monitored=monitored,
            failures=failures,
        )


class _ClosesOnFailedRead:
    """A connection whose reply did not arrive is never used again.

    redis-py's sentinel connection reads with ``disconnect_on_error=False``: after a timeout it
    went back to the pool with the late reply still due, and the next command read it as its
    own (another key's value, "OK" for a counter). Here a failed read closes the connection, as
    redis-py's plain connection does; callers that ask otherwise (push reads) still can.
    """

    def read_response(self, *args: Any, disconnect_on_error: bool = True, **kwargs: Any) -> Any:
        return super().read_response(  # type: ignore[misc]
            *args, disconnect_on_error=disconnect_on_error, **kwargs
        )


class AddonSentinelConnection(_ClosesOnFailedRead, SentinelManagedConnection):
    """Connection to the primary the sentinels name."""


class AddonSentinelSSLConnection(_ClosesOnFailedRead, SentinelManagedSSLConnection):
    """TLS connection to the primary the sentinels name."""


class AddonSentinelPool(
    FollowsFailovers, DropsIdleSafely, SentinelConnectionPool, BlockingConnectionPool
):
    """redis-py's sentinel pool made bounded like AddonPool: callers wait for a connection.

    The sentinel pool finds the primary's address; the blocking pool hands out at most
    max_connections connections, and drops those to a former primary on release.
    """


def _sentinel(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    """A client of the primary the sentinels name; it asks them again after a failover.

    The primary's connections take the shared options (auth, TLS, timeouts, client name, retry);
    the sentinels take the same TLS and timeouts with their own username and password.
    """
    options = connection_options(config, credentials)
    private = _with_tls(config, credentials, options)
    tls = options.pop("connection_class") is AddonSSLConnection
    options["connection_class"] = AddonSentinelSSLConnection if tls else AddonSentinelConnection
    for found_by_the_sentinels in ("host", "port"):
        options.pop(found_by_the_sentinels, None)
    tls_options = {name: value for name, value in options.items() if name.startswith("ssl_")}
    sentinel_options = {
        "username": config.sentinel_username,
        "password": _secret(credentials, "redis_sentinel_password"),
        "ssl": tls,
        **tls_options,
        "socket_timeout": config.socket_timeout,
        "socket_connect_timeout": config.socket_connect_timeout,
        "client_name": options["client_name"],
        "decode_responses": True,  # sentinel replies are parsed as text
        # one try per sentinel, the next sentinel is asked at once; the retry policy of the
        # primary's connections repeats the whole discovery
        "retry": Retry(NoBackoff(), retries=0),
    }
    sentinel = AddonSentinel(config.sentinel_addresses(), sentinel_kwargs=sentinel_options)
    assert config.sentinel_master is not None  # checked when the config loads
    client = sentinel.master_for(
        config.sentinel_master,
        connection_pool_class=AddonSentinelPool,
        ssl=tls,
        max_connections=config.max_connections,
        timeout=_pool_wait(config),
        **options,
    )
    watch = FailoverWatch(
        sentinel.sentinels, config.sentinel_master, client.connection_pool, config.socket_timeout
    )
    client.connection_pool.failover_watch = sentinel.watch = watch
    return _owns_files(client, private)


def _embedded(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    try:
        import fakeredis
    except ImportError as exc:
        raise AddonError(500, EMBEDDED_MISSING) from exc
    return fakeredis.FakeRedis(
        server=fakeredis.FakeServer(),
        db=config.db,
        decode_responses=config.decode_responses,
    )


EMBEDDED_MISSING = (
    'mode "embedded" needs fakeredis: install the extra with '
    "pip install 'redis-rooms-pkg[embedded]' (or poetry add 'redis-rooms-pkg[embedded]')"
)

BUILDERS: dict[str, ClientBuilder] = {
    "standalone": _standalone,
    "embedded": _embedded,
    "cluster": _cluster,
    "sentinel": _sentinel,
}


def build_client(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    """A pooled client for the configured deployment; opens no socket until first used (except
    a cluster client, which reads the slot map from the startup nodes when built)."""
    return BUILDERS[config.mode](config, credentials)


def close_client(client: redis.Redis | RedisCluster) -> None:
    """Close every connection the client holds (a cluster's per-node pools, the sentinels'
    too) and remove any private file it or its pool owns."""
    client.close()
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        watch = getattr(pool, "failover_watch", None)
        if watch is not None:
            watch.stop()
        pool.disconnect()
        for sentinel in getattr(getattr(pool, "sentinel_manager", None), "sentinels", ()):
            sentinel.close()
        if isinstance(pool, AddonPool):
            pool.remove_private_files()
    remove_files = getattr(client, "remove_private_files", None)
    if remove_files is not None:
        remove_files()


def check_deployment(client: redis.Redis | RedisCluster) -> None:
    """Raise unless the whole deployment serves: every primary of a cluster with all slots
    covered; the primary a sentinel names; else the one server answering PING."""
    if not isinstance(client, RedisCluster):
        client.ping()
        return
    states = client.cluster_info(target_nodes=RedisCluster.PRIMARIES)
    if "cluster_state" in states:  # a cluster of one primary: its reply alone
        states = {"the only primary": states}
    for node, info in states.items():
        covered = int(info.get("cluster_slots_ok", 0))
        if info.get("cluster_state") != "ok" or covered != REDIS_CLUSTER_HASH_SLOTS:
            raise ClusterNotServingError(node, covered)
