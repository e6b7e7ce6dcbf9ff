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
from redis.backoff import ExponentialWithJitterBackoff
from redis.connection import (
    BlockingConnectionPool,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)
from redis.retry import Retry

from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import (
    AddonError,
    ClosedBeforeReplyError,
    TLSHandshakeTimeoutError,
)

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


def _standalone(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    options = connection_options(config, credentials)
    private: tuple[str, ...] = ()
    if options["connection_class"] is AddonSSLConnection:
        options.update(_tls_options(config, credentials))
        if options["ssl_keyfile"] and options["ssl_keyfile"] != config.ssl_keyfile:
            private = (options["ssl_keyfile"],)
    pool = AddonPool(
        max_connections=config.max_connections,
        # an action waits this long at most for a connection another action frees
        timeout=config.socket_connect_timeout + config.socket_timeout,
        private_files=private,
        **options,
    )
    return redis.Redis(connection_pool=pool)


def close_client(client: redis.Redis) -> None:
    """Close the client, its pool's sockets and any private file the pool owns."""
    client.close()
    pool = client.connection_pool
    pool.disconnect()
    if isinstance(pool, AddonPool):
        pool.remove_private_files()


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
}


def build_client(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    """A pooled client for the configured deployment; opens no socket until first used."""
    return BUILDERS[config.mode](config, credentials)
