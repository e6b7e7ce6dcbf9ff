"""RedisRoomsAddon: the class the Rooms AI engine loads; it validates, dispatches and answers."""

# No ``from __future__ import annotations`` here: agent addons build tool schemas from these
# signatures (inspect.signature + pydantic.create_model) and need real types, not strings.

import difflib
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Annotated, Any

import redis
from loguru import logger
from pydantic import Field, ValidationError

from redis_rooms_pkg.actions import CATALOGUE, ActionResponse, Declaration
from redis_rooms_pkg.actions.base import (
    ENCODING_HELP,
    MAX_BATCH,
    MAX_EXPIRE_S,
    NAME_HELP,
    NAMES_TEXT,
    NO_BOOL,
    OBJECT_TEXT,
    VALUE_SCHEMA,
    ActionContext,
    Count,
    Encoding,
    Index,
    Key,
    Keys,
    Keyspace,
    Milliseconds,
    Name,
    Seconds,
    parse_json_text,
    respond,
    validate,
    wrong_type_message,
)
from redis_rooms_pkg.actions.params import (
    DEFAULT_MAX_DELIVERIES,
    DELETE_DEFAULT_LIMIT,
    DELETE_MAX_LIMIT,
    LIST_DEFAULT_LIMIT,
    LIST_MAX_LIMIT,
    MAX_FIELDS,
    MAX_POP,
    MAX_RECLAIM_S,
    MAX_TAKE,
    RANGE_DEFAULT_LIMIT,
    RANGE_MAX_LIMIT,
    RATE_MAX_LIMIT,
    Amount,
    Consumer,
    Cursor,
    DedupeId,
    EncodingOption,
    FieldNames,
    Group,
    Job,
    Limit,
    MaxDeliveries,
    Member,
    Members,
    Messages,
    PushValues,
    Queue,
    RangeBy,
    Score,
    ScoreBound,
    Scores,
    Section,
    SessionId,
    SetCursor,
    Side,
    StreamId,
    StreamIds,
    Token,
    Value,
    Wait,
    WindowSeconds,
    about,
)
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import DEFAULT_MAX_NAME_BYTES, KNOWN_SECRETS
from redis_rooms_pkg.services import errors
from redis_rooms_pkg.services.client import (
    EMBEDDED_MISSING,
    build_client,
    check_deployment,
    close_client,
    effective_config,
    renew_client,
    retire_client,
)
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.durability import run_replicated

Observer = Callable[..., Any]


def _entry(method: Callable[..., ActionResponse]) -> Callable[..., ActionResponse]:
    """The engine's entry to the action ``method`` declares (a typed signature, a docstring).

    The signature stays what agents read (``inspect.signature`` follows ``__wrapped__``), but a
    call never raises into the engine: arguments the signature does not take answer 400 naming
    them (with a "did you mean"); missing ones answer 400 from the action's input model. Null
    for an optional parameter means its default, as a strict-mode tool call sends every
    parameter and null for those it leaves (see ``redis_rooms_pkg.tool_schema``); null for a
    required one is refused (400).
    """
    name = method.__name__
    parameters = list(inspect.signature(method).parameters.values())[1:]  # without self
    names = tuple(parameter.name for parameter in parameters)
    accepted = frozenset(names)
    required = frozenset(p.name for p in parameters if p.default is inspect.Parameter.empty)

    @functools.wraps(method)
    def call(self: "RedisRoomsAddon", *args: Any, **kwargs: Any) -> ActionResponse:
        if args:  # rare: the engine and agents pass keywords
            named = dict(zip(names, args, strict=False))
            if len(args) > len(names) or not named.keys().isdisjoint(kwargs):
                return self._failed(name, kwargs, 400, _positional_problem(name, names, args))
            kwargs = {**named, **kwargs}
        if not accepted.issuperset(kwargs):
            return self._failed(name, kwargs, 400, _unknown_problem(name, names, kwargs))
        if None in kwargs.values():  # null for an optional parameter: its default (strict tools)
            kwargs = {k: v for k, v in kwargs.items() if v is not None or k in required}
        return self._dispatch(name, kwargs)

    return call


def _declares(
    *, read_only: bool, destructive: bool = False
) -> Callable[[Callable[..., ActionResponse]], Callable[..., ActionResponse]]:
    """Mark an action method: it joins the catalogue with what it may change."""

    def declare(method: Callable[..., ActionResponse]) -> Callable[..., ActionResponse]:
        CATALOGUE.declare(Declaration(method.__name__, method, read_only, destructive))
        return _entry(method)

    return declare


reads = _declares(read_only=True)  # reads only: allowed on a read_only addon
writes = _declares(read_only=False)  # changes data
destroys = _declares(read_only=False, destructive=True)  # removes data


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
        self._kept: redis.Redis | None = None  # a closed client whose pool is reused
        self._lock = threading.Lock()
        self._log = logger.bind(addon="redis")
        self._repeats = errors.RepeatLimiter()  # failures logged once per kind and interval

    def __repr__(self) -> str:
        if self.config is None:
            return "RedisRoomsAddon(unconfigured)"
        return f"RedisRoomsAddon(id={self.config.id!r}, {self._target()})"

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
        self._discard()
        self.config = config
        self.addon_id = self.addon_id or config.id
        self.credentials.set_env_names(config.secrets)
        self._log = logger.bind(addon=self.addon_id)
        for stray in config.stray_fields():  # kept: the engine owns the entry's other fields
            self._log.warning("the entry's top-level field {} is not an option: ignored", stray)
        self._log.info("configured {}", config.describe_target())
        return True

    def loadCredentials(self, **credentials: Any) -> bool:  # noqa: N802 - engine API
        """Keep the secrets the engine read from the environment (by secret key)."""
        unknown = sorted(set(credentials) - set(KNOWN_SECRETS))
        if unknown:
            self._log.warning("ignoring unknown secret key(s): {}", ", ".join(unknown))
        before = self._secrets()
        self.credentials.load({k: v for k, v in credentials.items() if k in KNOWN_SECRETS})
        if self._secrets() != before:
            self._renew()  # the next connection uses the new secrets
        if self.config is not None and credentials.get("redis_url"):
            try:
                effective_config(self.config, self.credentials)
            except errors.AddonError as exc:
                self._log.error("{}", exc.message)  # never the URL itself
                return False
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
        """Close the idle connections now and the busy ones when their action ends; the next
        action connects again (through the same bounded pool)."""
        with self._lock:
            context, self._context = self._context, None
            if context is not None:
                self._kept = context.client if retire_client(context.client) else None

    def _discard(self) -> None:
        """Close everything, the pool kept for reuse too (the configuration changes)."""
        self.close()
        with self._lock:
            kept, self._kept = self._kept, None
        if kept is not None:
            close_client(kept)

    def _target(self) -> str:
        """Where the addon connects, for messages (the redis_url secret's server when given)."""
        assert self.config is not None
        try:
            return effective_config(self.config, self.credentials).describe_target()
        except errors.AddonError:
            return self.config.describe_target()

    def _secrets(self) -> tuple[Any, ...]:
        return tuple(self.credentials.get(key) for key in KNOWN_SECRETS)

    def _renew(self) -> None:
        """New secrets: the pool connects with them from now on, keeping its bound (else the
        client is closed and the next action builds one)."""
        with self._lock:
            context = self._context
            if context is None or self.config is None:
                return
            try:
                if renew_client(context.client, self.config, self.credentials):
                    return
            except Exception as exc:  # e.g. a secret that cannot be used: said at first use
                self._log.debug("pool not renewed: {}", type(exc).__name__)
        self._discard()

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
                kept = self._kept
                if kept is None or not renew_client(kept, self.config, self.credentials):
                    kept = build_client(self.config, self.credentials)
                self._kept = kept
                self._context = ActionContext(
                    client=kept,
                    keys=Keyspace(self.config.key_prefix, self.config.max_name_bytes),
                    max_value_bytes=self.config.max_value_bytes,
                    socket_timeout=self.config.socket_timeout,
                    max_call_bytes=self.config.max_call_bytes,
                    max_response_bytes=self.config.max_response_bytes,
                    addon_id=self.addon_id or self.config.id,
                )
            return self._context

    # --- actions ----------------------------------------------------------------------------

    @writes
    def set_key(
        self,
        key: Key,
        value: Value,
        ex: Annotated[Seconds | None, about("Expiration time in seconds")] = None,
        px: Annotated[Milliseconds | None, about("Expiration time in milliseconds")] = None,
        nx: Annotated[bool, about("Only set the key if it does not exist yet")] = False,
        xx: Annotated[bool, about("Only set the key if it already exists")] = False,
        keep_ttl: Annotated[bool, about("Keep the key's current time to live")] = False,
        get_previous: Annotated[
            bool, about("Also return the value the key held before (in previous)")
        ] = False,
        encoding: EncodingOption = "text",
    ) -> ActionResponse:
        """Store a value in Redis at a key, optionally expiring after ex seconds.

        One atomic `SET` command: value, expiry and condition are applied together (never `SET`
        then `EXPIRE`).
        """

    @reads
    def get_key(
        self,
        key: Key,
        with_ttl: Annotated[bool, about("Also return the key's time to live (ttl)")] = False,
        encoding: EncodingOption = "text",
    ) -> ActionResponse:
        """Read the value stored at a key; found is false when the key does not exist."""

    @destroys
    def delete_key(
        self,
        key: Annotated[Key | None, about("Redis key to delete")] = None,
        keys: Annotated[
            Keys | None, about("Several Redis keys to delete (instead of key)" + NAMES_TEXT)
        ] = None,
    ) -> ActionResponse:
        """Remove a key (or a list of keys); deleted is false when none existed.

        Remove a key, or several keys, from Redis (`UNLINK`: the memory is freed in the background).
        """

    @reads
    def list_keys(
        self,
        pattern: Annotated[
            str, Field(min_length=1), about('Glob pattern to match keys (default: "*")')
        ] = "*",
        limit: Annotated[
            int,
            Field(ge=1, le=LIST_MAX_LIMIT),
            NO_BOOL,
            about("Stop once this many keys are found (the last SCAN batch may add a few more)"),
        ] = LIST_DEFAULT_LIMIT,
        cursor: Cursor = "0",
        with_values: Annotated[bool, about("Also return each key's value (values)")] = False,
        encoding: Annotated[Encoding, about("With with_values: " + ENCODING_HELP)] = "text",
    ) -> ActionResponse:
        """List the keys matching a glob pattern, a page at a time (SCAN, never KEYS).

        Find the keys matching a pattern, a page at a time. `list_keys` walks the keyspace with
        `SCAN` (never `KEYS`, which blocks a shared Redis for the whole keyspace) and stops once
        `limit` keys are found, so a small page of a huge keyspace returns fast. Pass the returned
        `cursor` back to get the next page; `cursor` is `"0"` (and `truncated` false) when the
        listing is complete. A page keeps every key of the last `SCAN` batch it read (a cursor
        cannot resume inside a batch), so `count` may exceed `limit` slightly; following the cursors
        returns every key that existed during the whole listing, and a key twice only if the
        keyspace was resized meanwhile (`SCAN`'s own guarantee). Keys are sorted within a page.
        Treat `cursor` as opaque: on a Redis Cluster it also says which primary the scan has reached
        (see [docs/scaling.md](scaling.md)).
        """

    @reads
    def exists_key(
        self,
        keys: Keys,
    ) -> ActionResponse:
        """Tell which of the given keys exist (exists per key, count of those that do)."""

    @writes
    def expire_key(
        self,
        key: Key,
        ex: Annotated[Seconds | None, about("Expire the key after this many seconds")] = None,
        px: Annotated[
            Milliseconds | None, about("Expire the key after this many milliseconds")
        ] = None,
        persist: Annotated[bool, about("Remove the expiry: the key never expires")] = False,
    ) -> ActionResponse:
        """Set a key's expiry (ex seconds or px milliseconds) or remove it (persist).

        Set, change or remove a key's expiry: exactly one of `ex`, `px` or `persist`.
        """

    @reads
    def get_ttl(
        self,
        key: Key,
    ) -> ActionResponse:
        """Read a key's time to live in seconds (-1: never expires; found false if absent)."""

    @reads
    def key_type(self, key: Key) -> ActionResponse:
        """Tell which Redis type a key holds (found is false when it does not exist).

        One `TYPE` command: `string`, `list`, `hash`, `set`, `zset` or `stream`, and the action
        of this addon that reads it, so a workflow can branch before it reads.
        """

    @reads
    def get_many(
        self,
        keys: Keys,
        encoding: EncodingOption = "text",
    ) -> ActionResponse:
        """Read several keys in one round trip (values per key, null when absent).

        Read several keys in one round trip (one `MGET`).
        """

    @writes
    def set_many(
        self,
        items: Annotated[
            dict[Key, Any],
            Field(min_length=1, max_length=MAX_BATCH),
            about("key -> value to store; non-strings are stored as JSON text" + OBJECT_TEXT),
        ],
        ex: Annotated[Seconds | None, about("Expiration time in seconds, every key")] = None,
        nx: Annotated[bool, about("Only set the keys that do not exist yet")] = False,
        encoding: EncodingOption = "text",
    ) -> ActionResponse:
        """Store several keys in one round trip, optionally expiring and only if absent (nx).

        Store several keys in one round trip. Without `ex` and `nx` it is one atomic `MSET`; with
        `ex` or `nx`, one `SET` per key (each key's value, expiry and condition atomic), all
        pipelined in one round trip. With `nx`, keys that already exist are left alone (value and
        TTL) and listed in `skipped`. Every value is checked (encoding, `max_value_bytes`) before
        anything is sent: a bad value writes nothing.
        """

    @destroys
    def delete_matching(
        self,
        pattern: Annotated[
            str,
            Field(min_length=1),
            about(
                "Glob pattern of the keys to delete; it must begin with a literal character "
                '(not *, ? or [) unless allow_all is true, e.g. "session:*"'
            ),
        ],
        limit: Annotated[
            int, Field(ge=1, le=DELETE_MAX_LIMIT), NO_BOOL, about("Delete at most this many keys")
        ] = DELETE_DEFAULT_LIMIT,
        allow_all: Annotated[
            bool, about('Allow a pattern that may match every key (such as "*" or "?*")')
        ] = False,
    ) -> ActionResponse:
        """Delete the keys matching a glob pattern, at most limit per call (SCAN + UNLINK).

        Delete the keys matching a pattern, in batches of `SCAN` + `UNLINK` (never `KEYS`), at most
        `limit` keys per call. A pattern that does not begin with a literal character (`*`, `?*`,
        `[a-z]*`...) may match every key and is refused unless `allow_all` is true (see
        [limits.md](limits.md)). When `truncated` is true, call again to delete more.
        """

    # --- workflow building blocks -----------------------------------------------------------

    @writes
    def increment(
        self,
        key: Key,
        by: Amount = 1,
        ex: Annotated[
            Seconds | None, about("Expiry in seconds, set only when this call creates the counter")
        ] = None,
    ) -> ActionResponse:
        """Add to a counter atomically (by may be negative or a float); ex applies on creation.

        Add to a counter in one atomic step (a Lua script): the counter is created at 0 when absent,
        and `ex` is set only by the call that creates it, so a fixed-window counter
        (`hits:{{minute}}`) can never be left without its expiry, however many workflows count at
        once. A key holding something that is not a number answers 409.
        """

    @writes
    def rate_limit(
        self,
        key: Key,
        limit: Annotated[
            int, Field(ge=1, le=RATE_MAX_LIMIT), NO_BOOL, about("Calls allowed in any window")
        ],
        window_s: Annotated[WindowSeconds, about("Window length in seconds")],
    ) -> ActionResponse:
        """Count a call against a sliding-window limit; allowed is false once limit is reached.

        Count a call against a limit of `limit` calls in any `window_s` seconds, and say whether it
        may go ahead. **Algorithm:** a sliding-window log, in one Lua script: the key is a sorted
        set of the allowed calls, scored by the Redis server's clock (`TIME`, so every worker shares
        one clock); each call first drops the entries older than the window, then is recorded and
        allowed only while fewer than `limit` remain. Denied calls are not recorded (retrying does
        not push the wait back). The key expires one window after the last call. Exact under
        concurrency: of 200 simultaneous calls, exactly `limit` are allowed.
        """

    @writes
    def list_push(
        self,
        key: Key,
        values: PushValues,
        side: Annotated[Side, about('"right" (tail, RPUSH) or "left" (head, LPUSH)')] = "right",
        max_length: Annotated[
            Count | None, about("Keep at most this many values (the newest are kept)")
        ] = None,
        ex: Annotated[Seconds | None, about("Expire the list after ex seconds")] = None,
    ) -> ActionResponse:
        """Push values onto a list (a queue), optionally capped at max_length and expiring.

        Push values onto a list, e.g. a queue between workflows. With `max_length` the list is
        trimmed to its newest values, and with `ex` it expires, in the same atomic step as the push.
        """

    @destroys
    def list_pop(
        self,
        key: Key,
        side: Annotated[
            Side, about('"left" (head: first in, first out with right pushes) or "right"')
        ] = "left",
        count: Annotated[int, Field(ge=1, le=MAX_POP), NO_BOOL, about("Most values to take")] = 1,
        wait_s: Annotated[
            Wait, about("Seconds to wait for a value when the list is empty (0: do not wait)")
        ] = 0,
    ) -> ActionResponse:
        """Take up to count values off a list, waiting up to wait_s seconds when it is empty.

        Take values off a list; each value goes to exactly one caller. When the list is empty and
        `wait_s` > 0, the step waits for a value (blocking `BLPOP`/`BRPOP`) and returns as soon as
        another client pushes one, or `found: false` after `wait_s`. A wait never outlives the
        socket rules: it runs as successive blocking calls that each end before `socket_timeout` (1s
        before it, or halfway for short timeouts), so a long `wait_s` does not need a long
        `socket_timeout`, and a dead server is still noticed within `socket_timeout`. `wait_s` is at
        most 60 seconds. When a wait ends with a value and `count` > 1, up to `count` - 1 more
        values that are already there are taken with it.
        """

    @reads
    def list_range(
        self,
        key: Key,
        start: Annotated[Index, about("First index (0 is the head; -1 the last value)")] = 0,
        stop: Annotated[Index, about("Last index, included (-1: to the end)")] = -1,
    ) -> ActionResponse:
        """Read a list from start to stop, both included (negative indexes count from the end).

        Read values of a list without changing it (`LRANGE`).
        """

    @reads
    def list_length(
        self,
        key: Key,
    ) -> ActionResponse:
        """Count the values of a list (0 when it does not exist).

        Count the values of a list (`LLEN`), e.g. a queue's backlog.
        """

    @writes
    def hash_set(
        self,
        key: Key,
        fields: Annotated[
            dict[Name, Any],
            Field(min_length=1, max_length=MAX_FIELDS),
            about("Field -> value; non-string values are stored as JSON text" + OBJECT_TEXT),
        ],
        ex: Annotated[Seconds | None, about("Expire the whole hash after ex seconds")] = None,
    ) -> ActionResponse:
        """Set fields of a hash (a record), optionally expiring it after ex seconds.

        Store fields of a record as a Redis hash, and its expiry, in one atomic step.
        """

    @reads
    def hash_get(
        self,
        key: Key,
        fields: Annotated[
            FieldNames | None, about("Fields to read (default: all fields)" + NAMES_TEXT)
        ] = None,
    ) -> ActionResponse:
        """Read fields of a hash (all fields when none are named); found is false if absent.

        Read fields of a hash: the named ones (`HMGET`), or all of them (`HGETALL`).
        """

    @destroys
    def hash_delete(
        self,
        key: Key,
        fields: Annotated[FieldNames, about("Fields to remove" + NAMES_TEXT)],
    ) -> ActionResponse:
        """Remove fields from a hash; deleted_count says how many existed.

        Remove fields from a hash (`HDEL`).
        """

    @writes
    def publish(
        self,
        channel: Annotated[
            Name, about(f"Channel name ({NAME_HELP}); key_prefix is put before it, as for keys")
        ],
        message: Annotated[
            Any,
            Field(json_schema_extra=VALUE_SCHEMA),
            about("Message; objects, arrays and numbers are sent as JSON text"),
        ],
    ) -> ActionResponse:
        """Publish a message on a channel; receivers counts the subscribers that got it.

        Send a message to the subscribers of a pub/sub channel, e.g. to notify another service. The
        addon's `key_prefix` is put before the channel name too, so instances with different
        prefixes do not hear each other (subscribe to `<key_prefix><channel>`). Under `read_only` it
        is refused like a write: it acts on other services.
        """

    @writes
    def acquire_lock(
        self,
        name: Key,
        ttl_ms: Annotated[
            Milliseconds,
            about("Lock lifetime in milliseconds: it frees itself if the holder never releases"),
        ],
        wait_s: Annotated[
            Wait, about("Seconds to keep trying while another holder has it (0: try once)")
        ] = 0,
    ) -> ActionResponse:
        """Take a named lock for ttl_ms milliseconds, waiting up to wait_s; returns its token.

        Take a named lock so that only one run does a step at a time (`SET NX PX` with a random
        token). The lock frees itself after `ttl_ms` if its holder never releases it. With `wait_s`,
        keep trying (with short, growing pauses) for up to `wait_s` seconds (at most 60). The lock
        is the Redis key `name`, under `key_prefix`.
        """

    @writes
    def release_lock(
        self,
        name: Key,
        token: Token,
    ) -> ActionResponse:
        """Release a lock held with token; a stale token never frees another holder's lock.

        Release a lock, in one compare-and-delete Lua script: only the token the lock holds frees
        it, so a run whose lock expired and was taken by another never releases the other's lock.
        """

    @writes
    def extend_lock(
        self,
        name: Key,
        token: Token,
        ttl_ms: Annotated[Milliseconds, about("New lifetime in milliseconds, counted from now")],
    ) -> ActionResponse:
        """Reset a held lock's lifetime to ttl_ms; refused unless the token still holds it.

        Give a held lock a new lifetime of `ttl_ms` from now (compare-and-expire in one Lua script),
        for a step that runs longer than planned. Refused (`extended: false`) unless the token still
        holds it.
        """

    @writes
    def history_append(
        self,
        session_id: SessionId,
        messages: Messages,
        max_messages: Annotated[
            Count | None, about("Keep only the newest max_messages messages")
        ] = None,
        ex: Annotated[
            Seconds | None, about("Forget the history ex seconds after the last append")
        ] = None,
    ) -> ActionResponse:
        """Append messages to a session's chat history, keeping the newest max_messages.

        Append messages to an agent's conversation. A session's history is a Redis list at the key
        `history:<session_id>` (under `key_prefix`), one JSON message per entry. The append, the
        trim to the newest `max_messages` and the expiry are one atomic step, and the TTL slides:
        each append restarts it, so a conversation is forgotten `ex` seconds after its last message.
        """

    @reads
    def history_get(
        self,
        session_id: SessionId,
        last: Annotated[Count | None, about("Only the newest last messages")] = None,
    ) -> ActionResponse:
        """Read a session's chat history, oldest first (only the newest last when given)."""

    @destroys
    def history_clear(
        self,
        session_id: SessionId,
    ) -> ActionResponse:
        """Forget a session's chat history; cleared is false when there was none."""

    @reads
    def server_info(
        self,
        section: Annotated[
            Section | None, about('An INFO section to return raw as info (e.g. "memory")')
        ] = None,
    ) -> ActionResponse:
        """Report the server's version, role, memory, clients and keyspace (raw section on ask).

        What a person checks first about the server, from `INFO`; the `keyspace` counts are for
        whole databases (not only the addon's `key_prefix`). On a Redis Cluster the figures cover
        every primary (see [docs/scaling.md](scaling.md)). The embedded in-process Redis has no
        `INFO`: there the action answers 501.
        """

    # --- queues (Redis Streams), sets and sorted sets ----------------------------------------

    @writes
    def queue_add(
        self,
        queue: Queue,
        job: Job,
        max_length: Annotated[
            Count | None,
            about("Keep at most this many jobs (the oldest are dropped, even unfinished ones)"),
        ] = None,
        dedupe_id: DedupeId = None,
    ) -> ActionResponse:
        """Add a job (a JSON object) to a queue, unless one with its dedupe_id is queued; its id.

        Append a job to a queue that workers take with `queue_take` and finish with `queue_ack`
        (at-least-once: a job taken by a run that dies is handed out again). The queue is the
        stream `{<queue>}` (under `key_prefix`; the braces keep the queue, its dead-letter
        queue `{<queue>}:dead` and its dedupe markers `{<queue>}:dedupe` in one hash slot on a
        Redis Cluster): the add is one `XADD`, or with `dedupe_id` or `max_length` one Lua
        script. With `max_length` the oldest jobs beyond it are dropped, done or not.

        With `dedupe_id` (e.g. an order number), a job added with the same id that is still in
        the queue, new or taken and not yet finished, keeps it from being added again: the
        answer is `added: false` with `duplicate_of` (and `id`) the job already there. Once that
        job is acknowledged (`queue_ack`), moved to the dead-letter queue (`queue_fail`,
        `queue_take`) or dropped by `max_length`, the id is free again: dedupe covers a job's
        time in the queue, not forever. The marker (a field of the hash `{<queue>}:dedupe`)
        goes in the same atomic step as its job, and one naming a job no longer in the queue
        (deleted by another program) is not obeyed, so it never blocks an id.
        """

    @writes
    def queue_take(
        self,
        queue: Queue,
        group: Group = "workers",
        consumer: Consumer = None,
        count: Annotated[
            int, Field(ge=1, le=MAX_TAKE), NO_BOOL, about(f"Most jobs to take (1 to {MAX_TAKE})")
        ] = 1,
        wait_s: Annotated[
            Wait, about("Seconds to wait for a job when none is ready (0: do not wait)")
        ] = 0,
        reclaim_after_s: Annotated[
            float,
            Field(gt=0, le=MAX_RECLAIM_S, allow_inf_nan=False),
            NO_BOOL,
            about("Hand out again a job taken but not finished for this many seconds"),
        ] = 300,
        max_deliveries: Annotated[
            MaxDeliveries,
            about(
                "A job already handed out this many times and not finished goes to the "
                "dead-letter queue instead of out again"
            ),
        ] = DEFAULT_MAX_DELIVERIES,
    ) -> ActionResponse:
        """Take up to count jobs: new ones, and jobs whose taker has not finished them in time.

        Each job comes with its `id` (for `queue_ack` / `queue_fail`), the `job` object and
        `deliveries` (1 the first time it is handed out). A job stays pending until it is
        acknowledged: when the run that took it dies, another `queue_take` gets it once it has
        been pending `reclaim_after_s` seconds (with `deliveries` one higher), so no job is lost.
        A job already handed out `max_deliveries` times (its consumers kept dying) is not handed
        out again: the take that reclaims it moves it to the dead-letter queue `{<queue>}:dead`
        instead, with the fields `queue_fail` writes (`job`, `id`, `deliveries`: the times it was
        handed out, `reason`: "handed out max_deliveries times, never finished (moved by
        queue_take)"), acknowledged and removed from the queue in the same atomic step, so it
        lands there exactly once; `moved_to_dead` and `moved_to_dead_ids` say which. Such jobs
        do not count towards `count`. Give `queue_take` and `queue_fail` the same
        `max_deliveries` (both 5 by default): a job goes to the dead-letter queue as soon as
        either limit is reached. A job moved there frees its `dedupe_id` (`queue_add`).
        One Lua script creates the consumer group on first use (it reads the queue from its
        start), reclaims such jobs (`XAUTOCLAIM`) and reads new ones (`XREADGROUP`); the ACL user
        needs `XADD`, `XACK`, `XDEL`, `HGET` and `HDEL` too (403 before anything is written; see
        [limits.md](limits.md)). With `wait_s`, the step waits for a new job as `list_pop` does
        (blocking calls that each end before `socket_timeout`). The consumer name defaults to
        the addon's id.
        """

    @destroys
    def queue_ack(
        self,
        queue: Queue,
        ids: StreamIds,
        group: Group = "workers",
    ) -> ActionResponse:
        """Finish jobs: acknowledge them and remove them from the queue.

        One Lua script: `XACK` each id, then `XDEL` those that were pending (an id that is not
        pending, already finished or never taken, is left alone and listed in `not_pending`),
        freeing the `dedupe_id` each was added with (`queue_add`). Acknowledging twice changes
        nothing the second time, so running the step again after an unknown outcome (504) is
        safe.
        """

    @writes
    def queue_fail(
        self,
        queue: Queue,
        id: StreamId,
        group: Group = "workers",
        max_deliveries: Annotated[
            MaxDeliveries,
            about("After this many deliveries the job goes to the dead-letter queue"),
        ] = DEFAULT_MAX_DELIVERIES,
        reason: Annotated[
            str | None, about("Why it failed (kept with the job in the dead-letter queue)")
        ] = None,
    ) -> ActionResponse:
        """Give a job back for a retry, or past max_deliveries move it to the dead-letter queue.

        One Lua script. A job delivered fewer than `max_deliveries` times is made claimable at
        once (the next `queue_take` of any consumer gets it, `deliveries` one higher); otherwise
        it is added to the stream `{<queue>}:dead` (fields `job`, `id`, `deliveries`, `reason`)
        and acknowledged and removed from the queue (its `dedupe_id` freed), all in one atomic
        step, so it lands there exactly once. A job that is not pending (already finished or
        moved) is left alone (`pending: false`).
        """

    @reads
    def queue_info(
        self,
        queue: Queue,
        group: Group = "workers",
    ) -> ActionResponse:
        """Report a queue: jobs, pending jobs, consumers, the oldest pending job's age, dead jobs.

        `length` counts the jobs not finished (new and pending); `pending` those handed out and
        not yet acknowledged; `oldest_pending_s` the age of the oldest pending job (since it was
        added: a job stuck in retries shows here); `dead` the jobs in the dead-letter queue.
        Reads only (`XLEN`, `XINFO GROUPS`, `XPENDING`, `TIME`), so it is resent after a lost
        reply.
        """

    @writes
    def set_add(
        self,
        key: Key,
        members: Members,
        ex: Annotated[Seconds | None, about("Expire the set after ex seconds")] = None,
    ) -> ActionResponse:
        """Add members to a set; new_members says which were not there (the dedupe primitive).

        One Lua script: each member is added (`SADD`) and reported new or not, and the expiry
        set, in one atomic step: of several workflows adding the same member at once, exactly
        one is told it is new.
        """

    @destroys
    def set_remove(
        self,
        key: Key,
        members: Members,
    ) -> ActionResponse:
        """Remove members from a set; removed counts those that were there (SREM)."""

    @reads
    def set_contains(
        self,
        key: Key,
        members: Members,
    ) -> ActionResponse:
        """Tell which members are in a set (contains per member; SMISMEMBER)."""

    @reads
    def set_size(
        self,
        key: Key,
    ) -> ActionResponse:
        """Count the members of a set (0 when it does not exist; SCARD)."""

    @reads
    def set_members(
        self,
        key: Key,
        limit: Annotated[
            int,
            Field(ge=1, le=RANGE_MAX_LIMIT),
            NO_BOOL,
            about("Stop once this many members are found (the last SSCAN batch may add a few)"),
        ] = RANGE_DEFAULT_LIMIT,
        cursor: SetCursor = "0",
    ) -> ActionResponse:
        """List a set's members a page at a time (SSCAN); pass cursor back for the next page.

        Pages through a set with `SSCAN`, as `list_keys` does through keys: `cursor` is `"0"`
        (and `truncated` false) when the listing is complete; members are sorted within a page.
        """

    @writes
    def zset_add(
        self,
        key: Key,
        scores: Scores,
        ex: Annotated[Seconds | None, about("Expire the sorted set after ex seconds")] = None,
        only_new: Annotated[
            bool, about("Only add new members; leave existing members' scores alone (NX)")
        ] = False,
    ) -> ActionResponse:
        """Add members with scores to a sorted set (or update their scores); added counts new ones.

        One Lua script: `ZADD` (with `NX` when `only_new`) and the expiry in one atomic step.
        Scores are finite numbers (NaN and infinity are refused); for delayed jobs use a Unix
        time and take them with `zset_pop_due`.
        """

    @writes
    def zset_increment(
        self,
        key: Key,
        member: Member,
        by: Annotated[Score, about("Amount to add to the score (negative to subtract)")] = 1,
    ) -> ActionResponse:
        """Add to a member's score (created at 0); returns the new score (ZINCRBY: leaderboards)."""

    @reads
    def zset_range(
        self,
        key: Key,
        by: Annotated[
            RangeBy, about('"rank" (positions, 0 first) or "score" (score bounds)')
        ] = "rank",
        start: Annotated[
            ScoreBound | None, about("First rank, or lowest score (default: the start)")
        ] = None,
        stop: Annotated[
            ScoreBound | None, about("Last rank (included), or highest score (default: the end)")
        ] = None,
        reverse: Annotated[
            bool, about("Highest score first (ranks then count from the highest)")
        ] = False,
        with_scores: Annotated[bool, about("Also return each member's score (scores)")] = False,
        limit: Annotated[
            Limit, about(f"Most members to return (1 to {RANGE_MAX_LIMIT})")
        ] = RANGE_DEFAULT_LIMIT,
    ) -> ActionResponse:
        """Read members of a sorted set by rank or by score, lowest first unless reverse.

        One `ZRANGE` (Redis 6.2+ form). By rank, `start`/`stop` are positions (negative count
        from the end; with `reverse`, from the highest score: `start` 0, `stop` 9 is a top ten).
        By score, `start` is the lowest and `stop` the highest score whatever `reverse` says,
        each a number, `"-inf"`/`"+inf"`, or `"(5"` to leave 5 out. At most `limit` members are
        returned (`truncated` says when more matched).
        """

    @destroys
    def zset_remove(
        self,
        key: Key,
        members: Members,
    ) -> ActionResponse:
        """Remove members from a sorted set; removed counts those that were there (ZREM)."""

    @destroys
    def zset_pop_due(
        self,
        key: Key,
        now: Annotated[
            float | None,
            Field(ge=0, le=MAX_EXPIRE_S, allow_inf_nan=False),
            NO_BOOL,
            about("Take members scored at or below this Unix time (default: the server's clock)"),
        ] = None,
        count: Annotated[
            int, Field(ge=1, le=MAX_POP), NO_BOOL, about(f"Most members to take (1 to {MAX_POP})")
        ] = 1,
    ) -> ActionResponse:
        """Take the members whose score (a Unix time) has passed, lowest first: delayed jobs.

        One Lua script reads the due members (`ZRANGE ... BYSCORE`, at most `count`) and removes
        them in the same atomic step, so a member goes to exactly one taker however many poll at
        once. `now` defaults to the Redis server's clock (`TIME`), shared by every worker.
        """

    # --- dispatch ---------------------------------------------------------------------------

    def _dispatch(self, name: str, params: dict[str, Any]) -> ActionResponse:
        spec, config = CATALOGUE[name], self.config
        writes = not spec.read_only
        try:
            if writes and config is not None and config.read_only:
                raise errors.AddonError(
                    403, f"addon is read-only: {name} changes data and was refused (read_only)"
                )
            if spec.json_text:  # lists and objects an agent or a template sent as JSON text
                params = parse_json_text(spec.json_text, params)
            validated = validate(spec.input, params)
            wanted = config.min_replicas_acked if writes and config is not None else 0
            context = self.context()
            if wanted:
                assert config is not None
                output, acked = run_replicated(
                    spec.run, context, validated, wanted, config.replica_ack_timeout_ms
                )
            else:
                output, acked = spec.run(context, validated), 0
        except redis.ResponseError as exc:
            if not str(exc).startswith("WRONGTYPE"):
                return self._failed(name, params, *self._describe(exc, name))
            # name the type the key holds and the action that reads it (one TYPE, only now)
            return self._failed(name, params, 409, wrong_type_message(context, validated, name))
        except Exception as exc:
            return self._failed(name, params, *self._describe(exc, name))
        if acked < wanted:
            return self._not_replicated(name, output, acked)
        return respond(output, output.message, 200)

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
        limit = self.config.max_name_bytes if self.config else DEFAULT_MAX_NAME_BYTES
        output = CATALOGUE[name].output.failed(message, params, limit)
        return ActionResponse(output=output, message=message, code=code)

    def _describe(self, exc: BaseException, action: str = "") -> tuple[int, str]:
        if self.config is None:
            return errors.describe(exc, "Redis", 0, action)
        code, message = errors.describe(
            exc,
            self._target(),
            self.config.socket_timeout,
            action,
            deployment=self.config.mode,
        )
        if code == 401 and "redis_password" in message:
            message += f" ({self._password_origin()})"
        return code, message

    def _password_origin(self) -> str:
        """Where the password the server rejected came from (never the password, nor the text
        of the entry's secrets, which may be the value)."""
        origin = self.credentials.origin("redis_password")
        if origin is not None:
            return f"the password sent is {origin}"
        if self.credentials.named_unset("redis_password"):
            return (
                "no password was sent: the environment variable the entry's secrets name for "
                "redis_password is not set (in the environment nor in .env)"
            )
        return "no password was sent: the entry's secrets have no redis_password"


def _fakeredis_available() -> bool:
    from importlib.util import find_spec

    return find_spec("fakeredis") is not None
