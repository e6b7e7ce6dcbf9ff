"""RedisRoomsAddon: the class the Rooms AI engine loads; it validates, dispatches and answers."""

# No ``from __future__ import annotations`` here: agent addons build tool schemas from these
# signatures (inspect.signature + pydantic.create_model) and need real types, not strings.

import threading
from collections.abc import Callable
from typing import Any, Literal

import redis
from loguru import logger
from pydantic import ValidationError

from redis_rooms_pkg.actions import CATALOGUE, ActionResponse
from redis_rooms_pkg.actions.base import ActionContext, Encoding, Keyspace, validate
from redis_rooms_pkg.actions.server_info import Section
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import KNOWN_SECRETS
from redis_rooms_pkg.services import errors
from redis_rooms_pkg.services.client import (
    EMBEDDED_MISSING,
    build_client,
    check_deployment,
    close_client,
)
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
        """Health check: True when the deployment serves (server PING, cluster slots, primary)."""
        try:
            check_deployment(self.client())
            return True
        except Exception as exc:
            code, message = self._describe(exc)
            self._log.warning("health check failed ({}): {}", code, message)
            return False

    def close(self) -> None:
        """Release the connection pool; the next action connects again."""
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            close_client(context.client)

    def __enter__(self) -> "RedisRoomsAddon":
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
                    keys=Keyspace(self.config.key_prefix, self.config.max_name_bytes),
                    max_value_bytes=self.config.max_value_bytes,
                    socket_timeout=self.config.socket_timeout,
                    max_call_bytes=self.config.max_call_bytes,
                    max_response_bytes=self.config.max_response_bytes,
                )
            return self._context

    # --- actions ----------------------------------------------------------------------------

    def set_key(
        self,
        key: str,
        value: Any,
        ex: int | None = None,
        px: int | None = None,
        nx: bool = False,
        xx: bool = False,
        keep_ttl: bool = False,
        get_previous: bool = False,
        encoding: Encoding = "text",
    ) -> ActionResponse:
        """Store a value in Redis at a key, optionally expiring after ex seconds."""
        return self._dispatch("set_key", _given(locals()))

    def get_key(
        self, key: str, with_ttl: bool = False, encoding: Encoding = "text"
    ) -> ActionResponse:
        """Read the value stored at a key; found is false when the key does not exist."""
        return self._dispatch("get_key", _given(locals()))

    def delete_key(self, key: str | None = None, keys: list[str] | None = None) -> ActionResponse:
        """Remove a key (or a list of keys); deleted is false when none existed."""
        return self._dispatch("delete_key", _given(locals()))

    def list_keys(
        self,
        pattern: str = "*",
        limit: int = 1000,
        cursor: str = "0",
        with_values: bool = False,
        encoding: Encoding = "text",
    ) -> ActionResponse:
        """List the keys matching a glob pattern, a page at a time (SCAN, never KEYS)."""
        return self._dispatch("list_keys", _given(locals()))

    def exists_key(self, keys: list[str]) -> ActionResponse:
        """Tell which of the given keys exist (exists per key, count of those that do)."""
        return self._dispatch("exists_key", _given(locals()))

    def expire_key(
        self, key: str, ex: int | None = None, px: int | None = None, persist: bool = False
    ) -> ActionResponse:
        """Set a key's expiry (ex seconds or px milliseconds) or remove it (persist)."""
        return self._dispatch("expire_key", _given(locals()))

    def get_ttl(self, key: str) -> ActionResponse:
        """Read a key's time to live in seconds (-1: never expires; found false if absent)."""
        return self._dispatch("get_ttl", _given(locals()))

    def get_many(self, keys: list[str], encoding: Encoding = "text") -> ActionResponse:
        """Read several keys in one round trip (values per key, null when absent)."""
        return self._dispatch("get_many", _given(locals()))

    def set_many(
        self,
        items: dict[str, Any],
        ex: int | None = None,
        nx: bool = False,
        encoding: Encoding = "text",
    ) -> ActionResponse:
        """Store several keys in one round trip, optionally expiring and only if absent (nx)."""
        return self._dispatch("set_many", _given(locals()))

    def delete_matching(
        self, pattern: str, limit: int = 10000, allow_all: bool = False
    ) -> ActionResponse:
        """Delete the keys matching a glob pattern, at most limit per call (SCAN + UNLINK)."""
        return self._dispatch("delete_matching", _given(locals()))

    # --- workflow building blocks -----------------------------------------------------------

    def increment(self, key: str, by: int | float = 1, ex: int | None = None) -> ActionResponse:
        """Add to a counter atomically (by may be negative or a float); ex applies on creation."""
        return self._dispatch("increment", _given(locals()))

    def rate_limit(self, key: str, limit: int, window_s: float) -> ActionResponse:
        """Count a call against a sliding-window limit; allowed is false once limit is reached."""
        return self._dispatch("rate_limit", _given(locals()))

    def list_push(
        self,
        key: str,
        values: list[Any],
        side: Literal["left", "right"] = "right",
        max_length: int | None = None,
        ex: int | None = None,
    ) -> ActionResponse:
        """Push values onto a list (a queue), optionally capped at max_length and expiring."""
        return self._dispatch("list_push", _given(locals()))

    def list_pop(
        self,
        key: str,
        side: Literal["left", "right"] = "left",
        count: int = 1,
        wait_s: float = 0,
    ) -> ActionResponse:
        """Take up to count values off a list, waiting up to wait_s seconds when it is empty."""
        return self._dispatch("list_pop", _given(locals()))

    def list_range(self, key: str, start: int = 0, stop: int = -1) -> ActionResponse:
        """Read a list from start to stop, both included (negative indexes count from the end)."""
        return self._dispatch("list_range", _given(locals()))

    def list_length(self, key: str) -> ActionResponse:
        """Count the values of a list (0 when it does not exist)."""
        return self._dispatch("list_length", _given(locals()))

    def hash_set(self, key: str, fields: dict[str, Any], ex: int | None = None) -> ActionResponse:
        """Set fields of a hash (a record), optionally expiring it after ex seconds."""
        return self._dispatch("hash_set", _given(locals()))

    def hash_get(self, key: str, fields: list[str] | None = None) -> ActionResponse:
        """Read fields of a hash (all fields when none are named); found is false if absent."""
        return self._dispatch("hash_get", _given(locals()))

    def hash_delete(self, key: str, fields: list[str]) -> ActionResponse:
        """Remove fields from a hash; deleted_count says how many existed."""
        return self._dispatch("hash_delete", _given(locals()))

    def publish(self, channel: str, message: Any) -> ActionResponse:
        """Publish a message on a channel; receivers counts the subscribers that got it."""
        return self._dispatch("publish", _given(locals()))

    def acquire_lock(self, name: str, ttl_ms: int, wait_s: float = 0) -> ActionResponse:
        """Take a named lock for ttl_ms milliseconds, waiting up to wait_s; returns its token."""
        return self._dispatch("acquire_lock", _given(locals()))

    def release_lock(self, name: str, token: str) -> ActionResponse:
        """Release a lock held with token; a stale token never frees another holder's lock."""
        return self._dispatch("release_lock", _given(locals()))

    def extend_lock(self, name: str, token: str, ttl_ms: int) -> ActionResponse:
        """Reset a held lock's lifetime to ttl_ms; refused unless the token still holds it."""
        return self._dispatch("extend_lock", _given(locals()))

    def history_append(
        self,
        session_id: str,
        messages: list[dict[str, Any]],
        max_messages: int | None = None,
        ex: int | None = None,
    ) -> ActionResponse:
        """Append messages to a session's chat history, keeping the newest max_messages."""
        return self._dispatch("history_append", _given(locals()))

    def history_get(self, session_id: str, last: int | None = None) -> ActionResponse:
        """Read a session's chat history, oldest first (only the newest last when given)."""
        return self._dispatch("history_get", _given(locals()))

    def history_clear(self, session_id: str) -> ActionResponse:
        """Forget a session's chat history; cleared is false when there was none."""
        return self._dispatch("history_clear", _given(locals()))

    def server_info(self, section: Section | None = None) -> ActionResponse:
        """Report the server's version, role, memory, clients and keyspace (raw section on ask)."""
        return self._dispatch("server_info", _given(locals()))

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, name: str, params: dict[str, Any]) -> ActionResponse:
        spec = CATALOGUE[name]
        try:
            if spec.writes and self.config is not None and self.config.read_only:
                raise errors.AddonError(
                    403, f"addon is read-only: {name} changes data and was refused (read_only)"
                )
            validated = validate(spec.input, params)
            output = spec.run(self.context(), validated)
        except Exception as exc:
            code, message = self._describe(exc, name)
            self._log.warning("{} failed ({}): {}", name, code, message)
            # Echo the step's names (key, channel...) into the failed output; never "message",
            # which is the output's status text (publish has a "message" parameter).
            fields = spec.output.model_fields
            echo = {
                f: v
                for f, v in params.items()
                if f in fields and f != "message" and isinstance(v, str)
            }
            return ActionResponse(
                output=spec.output(message=message, **echo), message=message, code=code
            )
        self._log.debug("{} ok", name)
        return validate(ActionResponse, {"output": output, "message": output.message, "code": 200})

    def _describe(self, exc: BaseException, action: str = "") -> tuple[int, str]:
        if self.config is None:
            return errors.describe(exc, "Redis", 0, action)
        return errors.describe(
            exc, self.config.describe_target(), self.config.socket_timeout, action
        )


def _given(arguments: dict[str, Any]) -> dict[str, Any]:
    """An action method's arguments (its ``locals()`` before anything else) without ``self``."""
    given = dict(arguments)  # a copy made in C: this runs for every action
    given.pop("self", None)
    return given


def _fakeredis_available() -> bool:
    from importlib.util import find_spec

    return find_spec("fakeredis") is not None
