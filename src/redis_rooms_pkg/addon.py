"""RedisRoomsAddon: the class the Rooms AI engine loads; it validates, dispatches and answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import redis
from loguru import logger
from pydantic import ValidationError

from redis_rooms_pkg.actions import CATALOGUE, ActionResponse
from redis_rooms_pkg.actions.base import ActionContext, Keyspace
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import KNOWN_SECRETS
from redis_rooms_pkg.services import errors
from redis_rooms_pkg.services.client import EMBEDDED_MISSING, build_client
from redis_rooms_pkg.services.credentials import Credentials

Observer = Callable[..., Any]


class RedisRoomsAddon:
    """Redis storage addon: set, get, delete and list keys from workflow steps."""

    type = "storage"

    def __init__(self) -> None:
        self.config: CustomAddonConfig | None = None
        self.credentials = Credentials()
        self.addon_id: str | None = None
        self.observer: Observer | None = None
        self._context: ActionContext | None = None
        self._lock = threading.Lock()
        self._log = logger.bind(addon="redis")

    def __repr__(self) -> str:
        if self.config is None:
            return "RedisRoomsAddon(unconfigured)"
        return f"RedisRoomsAddon(id={self.config.id!r}, {self.config.describe_target()})"

    # --- life cycle -------------------------------------------------------------------------

    def loadAddonConfig(self, addon_config: dict[str, Any]) -> bool:  # noqa: N802 - engine API
        """Validate the workflow's addon entry; False (and the reason logged) when invalid."""
        try:
            config = CustomAddonConfig.model_validate(addon_config)
        except ValidationError as exc:
            self._log.error("invalid addon config: {}", errors.describe(exc, "", 0)[1])
            return False
        if config.mode == "embedded" and not _fakeredis_available():
            self._log.error("invalid addon config: {}", EMBEDDED_MISSING)
            return False
        self.close()
        self.config = config
        self.addon_id = self.addon_id or config.id
        self.credentials.set_env_names(config.secrets)
        self._log = logger.bind(addon=self.addon_id)
        self._log.info("configured {}", config.describe_target())
        return True

    def loadCredentials(self, **credentials: Any) -> bool:  # noqa: N802 - engine API
        """Keep the secrets the engine read from the environment (by secret key)."""
        unknown = sorted(set(credentials) - set(KNOWN_SECRETS))
        if unknown:
            self._log.warning("ignoring unknown secret key(s): {}", ", ".join(unknown))
        self.credentials.load({k: v for k, v in credentials.items() if k in KNOWN_SECRETS})
        self.close()  # the next action connects with the new secrets
        self._log.debug("credentials loaded for key(s): {}", ", ".join(sorted(credentials)))
        return True

    def setObserverCallback(self, callback: Observer, addon_id: str) -> None:  # noqa: N802
        """Keep the platform's observer callback and this instance's id."""
        self.observer = callback
        self.addon_id = addon_id
        self._log = logger.bind(addon=addon_id)

    def test(self) -> bool:
        """Health check: True when the server answers PING with the configured credentials."""
        try:
            return bool(self.client().ping())
        except Exception as exc:
            code, message = self._describe(exc)
            self._log.warning("health check failed ({}): {}", code, message)
            return False

    def close(self) -> None:
        """Release the connection pool; the next action connects again."""
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            context.client.close()
            context.client.connection_pool.disconnect()

    def __enter__(self) -> RedisRoomsAddon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def client(self) -> redis.Redis:
        """The instance's pooled client, built on first use."""
        return self.context().client

    def context(self) -> ActionContext:
        """What actions work with: the pooled client (built on first use) and the namespace."""
        context = self._context
        if context is not None:
            return context
        if self.config is None:
            raise errors.AddonError(
                500, "the addon has no configuration: call loadAddonConfig first"
            )
        with self._lock:
            if self._context is None:
                self._context = ActionContext(
                    client=build_client(self.config, self.credentials),
                    keys=Keyspace(self.config.key_prefix),
                )
            return self._context

    # --- actions ----------------------------------------------------------------------------

    def set_key(self, key: str, value: Any, ex: int | None = None) -> ActionResponse:
        """Store a value in Redis at a key, optionally expiring after ex seconds."""
        return self._dispatch("set_key", {"key": key, "value": value, "ex": ex})

    def get_key(self, key: str) -> ActionResponse:
        """Read the value stored at a key; found is false when the key does not exist."""
        return self._dispatch("get_key", {"key": key})

    def delete_key(self, key: str) -> ActionResponse:
        """Remove a key; deleted is false when it did not exist."""
        return self._dispatch("delete_key", {"key": key})

    def list_keys(self, pattern: str = "*") -> ActionResponse:
        """List the keys matching a glob pattern (incremental SCAN, never KEYS)."""
        return self._dispatch("list_keys", {"pattern": pattern})

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, name: str, params: dict[str, Any]) -> ActionResponse:
        spec = CATALOGUE[name]
        try:
            validated = spec.input.model_validate(params)
            output = spec.run(self.context(), validated)
        except Exception as exc:
            code, message = self._describe(exc)
            self._log.warning("{} failed ({}): {}", name, code, message)
            echo = {f: v for f, v in params.items() if f in spec.output.model_fields}
            echo = {f: v for f, v in echo.items() if isinstance(v, str)}
            return ActionResponse(
                output=spec.output(message=message, **echo), message=message, code=code
            )
        self._log.debug("{} ok", name)
        return ActionResponse(output=output, message=output.message, code=200)

    def _describe(self, exc: BaseException) -> tuple[int, str]:
        if self.config is None:
            return errors.describe(exc, "Redis", 0)
        return errors.describe(exc, self.config.describe_target(), self.config.socket_timeout)


def _fakeredis_available() -> bool:
    from importlib.util import find_spec

    return find_spec("fakeredis") is not None
