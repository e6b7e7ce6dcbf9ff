"""RedisRoomsAddon: the class the Rooms AI engine loads; it validates, dispatches and answers."""

# No ``from __future__ import annotations`` here: agent addons build tool schemas from these
# signatures (inspect.signature + pydantic.create_model) and need real types, not strings.

import difflib
import functools
import inspect
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
from redis_rooms_pkg.services.durability import run_replicated

Observer = Callable[..., Any]


def action(method: Callable[..., ActionResponse]) -> Callable[..., ActionResponse]:
    """Make ``method`` (a signature and a docstring) the engine's entry to the action of its name.

    The signature stays what agents read (``inspect.signature`` follows ``__wrapped__``), but a
    call never raises into the engine: arguments the signature does not take answer 400 naming
    them (with a "did you mean"); missing ones answer 400 from the action's input model.
    """
    name = method.__name__
    names = tuple(inspect.signature(method).parameters)[1:]  # without self
    accepted = frozenset(names)

    @functools.wraps(method)
    def call(self: "RedisRoomsAddon", *args: Any, **kwargs: Any) -> ActionResponse:
        if args:  # rare: the engine and agents pass keywords
            named = dict(zip(names, args, strict=False))
            if len(args) > len(names) or not named.keys().isdisjoint(kwargs):
                return self._failed(name, kwargs, 400, _positional_problem(name, names, args))
            kwargs = {**named, **kwargs}
        if not accepted.issuperset(kwargs):
            return self._failed(name, kwargs, 400, _unknown_problem(name, names, kwargs))
        return self._dispatch(name, kwargs)

    return call


def _unknown_problem(name: str, names: tuple[str, ...], given: dict[str, Any]) -> str:
    parts = []
    for unknown in sorted(set(given) - set(names), key=str):
        close = difflib.get_close_matches(str(unknown), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        parts.append(f"unknown parameter {str(unknown)!r}{hint}")
    return f"invalid input: {'; '.join(parts)}; {name} takes: {', '.join(names)}"


def _positional_problem(name: str, names: tuple[str, ...], args: tuple[Any, ...]) -> str:
    return (
        f"invalid input: {name} got {len(args)} positional argument(s) for its "
        f"{len(names)} parameter(s) ({', '.join(names)}), or a parameter given twice; "
        "pass parameters by name"
    )


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
        self._repeats = errors.RepeatLimiter()  # failures logged once per kind and interval

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
                    keys=Keyspace(self.config.key_prefix),
                    max_value_bytes=self.config.max_value_bytes,
                    socket_timeout=self.config.socket_timeout,
                )
            return self._context

    # --- actions ----------------------------------------------------------------------------

    @action
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

    @action
    def get_key(
        self, key: str, with_ttl: bool = False, encoding: Encoding = "text"
    ) -> ActionResponse:
        """Read the value stored at a key; found is false when the key does not exist."""

    @action
    def delete_key(self, key: str | None = None, keys: list[str] | None = None) -> ActionResponse:
        """Remove a key (or a list of keys); deleted is false when none existed."""

    @action
    def list_keys(
        self,
        pattern: str = "*",
        limit: int = 1000,
        cursor: str = "0",
        with_values: bool = False,
        encoding: Encoding = "text",
    ) -> ActionResponse:
        """List the keys matching a glob pattern, a page at a time (SCAN, never KEYS)."""

    @action
    def exists_key(self, keys: list[str]) -> ActionResponse:
        """Tell which of the given keys exist (exists per key, count of those that do)."""

    @action
    def expire_key(
        self, key: str, ex: int | None = None, px: int | None = None, persist: bool = False
    ) -> ActionResponse:
        """Set a key's expiry (ex seconds or px milliseconds) or remove it (persist)."""

    @action
    def get_ttl(self, key: str) -> ActionResponse:
        """Read a key's time to live in seconds (-1: never expires; found false if absent)."""

    @action
    def get_many(self, keys: list[str], encoding: Encoding = "text") -> ActionResponse:
        """Read several keys in one round trip (values per key, null when absent)."""

    @action
    def set_many(
        self,
        items: dict[str, Any],
        ex: int | None = None,
        nx: bool = False,
        encoding: Encoding = "text",
    ) -> ActionResponse:
        """Store several keys in one round trip, optionally expiring and only if absent (nx)."""

    @action
    def delete_matching(
        self, pattern: str, limit: int = 10000, allow_all: bool = False
    ) -> ActionResponse:
        """Delete the keys matching a glob pattern, at most limit per call (SCAN + UNLINK)."""

    # --- workflow building blocks -----------------------------------------------------------

    @action
    def increment(self, key: str, by: int | float = 1, ex: int | None = None) -> ActionResponse:
        """Add to a counter atomically (by may be negative or a float); ex applies on creation."""

    @action
    def rate_limit(self, key: str, limit: int, window_s: float) -> ActionResponse:
        """Count a call against a sliding-window limit; allowed is false once limit is reached."""

    @action
    def list_push(
        self,
        key: str,
        values: list[Any],
        side: Literal["left", "right"] = "right",
        max_length: int | None = None,
        ex: int | None = None,
    ) -> ActionResponse:
        """Push values onto a list (a queue), optionally capped at max_length and expiring."""

    @action
    def list_pop(
        self,
        key: str,
        side: Literal["left", "right"] = "left",
        count: int = 1,
        wait_s: float = 0,
    ) -> ActionResponse:
        """Take up to count values off a list, waiting up to wait_s seconds when it is empty."""

    @action
    def list_range(self, key: str, start: int = 0, stop: int = -1) -> ActionResponse:
        """Read a list from start to stop, both included (negative indexes count from the end)."""

    @action
    def list_length(self, key: str) -> ActionResponse:
        """Count the values of a list (0 when it does not exist)."""

    @action
    def hash_set(self, key: str, fields: dict[str, Any], ex: int | None = None) -> ActionResponse:
        """Set fields of a hash (a record), optionally expiring it after ex seconds."""

    @action
    def hash_get(self, key: str, fields: list[str] | None = None) -> ActionResponse:
        """Read fields of a hash (all fields when none are named); found is false if absent."""

    @action
    def hash_delete(self, key: str, fields: list[str]) -> ActionResponse:
        """Remove fields from a hash; deleted_count says how many existed."""

    @action
    def publish(self, channel: str, message: Any) -> ActionResponse:
        """Publish a message on a channel; receivers counts the subscribers that got it."""

    @action
    def acquire_lock(self, name: str, ttl_ms: int, wait_s: float = 0) -> ActionResponse:
        """Take a named lock for ttl_ms milliseconds, waiting up to wait_s; returns its token."""

    @action
    def release_lock(self, name: str, token: str) -> ActionResponse:
        """Release a lock held with token; a stale token never frees another holder's lock."""

    @action
    def extend_lock(self, name: str, token: str, ttl_ms: int) -> ActionResponse:
        """Reset a held lock's lifetime to ttl_ms; refused unless the token still holds it."""

    @action
    def history_append(
        self,
        session_id: str,
        messages: list[dict[str, Any]],
        max_messages: int | None = None,
        ex: int | None = None,
    ) -> ActionResponse:
        """Append messages to a session's chat history, keeping the newest max_messages."""

    @action
    def history_get(self, session_id: str, last: int | None = None) -> ActionResponse:
        """Read a session's chat history, oldest first (only the newest last when given)."""

    @action
    def history_clear(self, session_id: str) -> ActionResponse:
        """Forget a session's chat history; cleared is false when there was none."""

    @action
    def server_info(self, section: Section | None = None) -> ActionResponse:
        """Report the server's version, role, memory, clients and keyspace (raw section on ask)."""

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, name: str, params: dict[str, Any]) -> ActionResponse:
        spec = CATALOGUE[name]
        try:
            if spec.writes and self.config is not None and self.config.read_only:
                raise errors.AddonError(
                    403, f"addon is read-only: {name} changes data and was refused (read_only)"
                )
            validated = validate(spec.input, params)
            wanted = self.config.min_replicas_acked if spec.writes and self.config else 0
            if wanted:
                output, acked = run_replicated(
                    spec.run, self.context(), validated, wanted, self.config.replica_ack_timeout_ms
                )
            else:
                output, acked = spec.run(self.context(), validated), 0
        except Exception as exc:
            return self._failed(name, params, *self._describe(exc, name))
        if acked < wanted:
            return self._not_replicated(name, output, acked)
        self._log.debug("{} ok", name)
        return validate(ActionResponse, {"output": output, "message": output.message, "code": 200})

    def _not_replicated(self, name: str, output: Any, acked: int) -> ActionResponse:
        """202: the write is applied on the primary (the output says what it did), but fewer
        replicas than min_replicas_acked confirmed it in time: a failover now may lose it."""
        assert self.config is not None
        message = (
            f"{output.message}; applied on the primary, but only {acked} of the "
            f"{self.config.min_replicas_acked} replicas wanted (min_replicas_acked) confirmed it "
            f"within {self.config.replica_ack_timeout_ms} ms: it may be lost if the primary "
            "fails now. Do not run the step again (that would apply it twice)"
        )
        self._log.warning(
            "{} not replicated (202): {} of {} replicas",
            name,
            acked,
            self.config.min_replicas_acked,
        )
        return validate(ActionResponse, {"output": output, "message": message, "code": 202})

    def _failed(self, name: str, params: dict[str, Any], code: int, message: str) -> ActionResponse:
        """A failed step's response: its code and message, and an output stating no facts."""
        left_out = self._repeats.admit((code, message))
        if left_out is not None:  # one line per kind of failure and interval (a fault storm)
            also = f" ({left_out} more like it since the previous such line)" if left_out else ""
            self._log.warning("{} failed ({}): {}{}", name, code, message, also)
        output = CATALOGUE[name].output.failed(message, params)
        return ActionResponse(output=output, message=message, code=code)

    def _describe(self, exc: BaseException, action: str = "") -> tuple[int, str]:
        if self.config is None:
            return errors.describe(exc, "Redis", 0, action)
        return errors.describe(
            exc,
            self.config.describe_target(),
            self.config.socket_timeout,
            action,
            deployment=self.config.mode,
        )


def _fakeredis_available() -> bool:
    from importlib.util import find_spec

    return find_spec("fakeredis") is not None
