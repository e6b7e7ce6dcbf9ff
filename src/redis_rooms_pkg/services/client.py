"""The one place that builds Redis clients from an addon's configuration and secrets."""

from __future__ import annotations

from collections.abc import Callable

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import AddonError

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


def _standalone(config: CustomAddonConfig, credentials: Credentials) -> redis.Redis:
    password = credentials.get("redis_password")
    return redis.Redis(
        host=config.host,
        port=config.port,
        db=config.db,
        username=config.username,
        password=password.get_secret_value() if password else None,
        ssl=config.ssl,
        decode_responses=config.decode_responses,
        socket_timeout=config.socket_timeout,
        socket_connect_timeout=config.socket_connect_timeout,
        retry=retry_policy(config),
    )


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
