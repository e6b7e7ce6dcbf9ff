"""What every action shares: its catalogue entry, the response envelope, parameter types."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import redis
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
)
from redis.client import NEVER_DECODE
from redis.cluster import REDIS_CLUSTER_HASH_SLOTS, ClusterNode, RedisCluster

from redis_rooms_pkg.services.errors import AddonError

MAX_BATCH = 10_000  # keys one batch action (get_many, set_many, exists_key, delete_key) takes
RAW = {NEVER_DECODE: []}  # execute_command option: the reply as bytes, whatever decode_responses

# Models here build their validators on first use (defer_build), not at import: an engine that
# imports the addon pays only for the actions a workflow runs (see docs/benchmarks.md).
_LAZY = ConfigDict(defer_build=True)


class TokensSchema(BaseModel):
    """LLM tokens spent by a step: always 0 for a storage addon."""

    model_config = _LAZY

    stepAmount: int = 0  # noqa: N815 - the engine's field name
    totalCurrentAmount: int = 0  # noqa: N815 - the engine's field name


class ActionResponse(BaseModel):
    """What every action returns to the engine."""

    model_config = _LAZY

    output: SerializeAsAny[BaseModel] | None = None
    tokens: TokensSchema = Field(default_factory=TokensSchema)
    message: str | None = None
    code: int | None = None


class ActionInput(BaseModel):
    """Base of action parameter models: unknown parameters are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ActionOutput(BaseModel):
    """Base of action outputs. Every field but ``message`` (and set_key's ``success``) admits
    null: a failed step's output states no fact the addon does not know (see :meth:`failed`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    message: str = Field(default="", description="Status message")

    @classmethod
    def failed(cls, message: str, given: Mapping[str, Any]) -> ActionOutput:
        """The output of a failed step: its message, the names the step was given (key,
        channel...) echoed back, and null for every fact (found, written, count...): a later
        step's condition must not read a failure as "absent", "denied" or "0"."""
        values: dict[str, Any] = dict.fromkeys(cls.model_fields)
        for name, value in given.items():
            # "message" is the output's status text (publish also has a "message" parameter)
            if name in values and name != "message" and isinstance(value, str):
                values[name] = value
        values["message"] = message
        if "success" in values:
            values["success"] = False  # whether the step succeeded: it did not
        return validate(cls, values)


_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


@dataclass(frozen=True)
class Keyspace:
    """The addon's key namespace: every key an action touches lives under ``prefix``."""

    prefix: str = ""

    def key(self, name: str) -> str:
        """The stored name of a key the workflow calls ``name``."""
        return self.prefix + name

    def name(self, stored: str) -> str:
        """The workflow's name for a stored key (the prefix removed)."""
        return stored[len(self.prefix) :]

    def contains(self, stored: str) -> bool:
        return stored.startswith(self.prefix)

    def pattern(self, pattern: str) -> str:
        """A SCAN pattern that can only match inside the namespace, whatever ``pattern`` says."""
        return self.prefix.translate(_GLOB_SPECIAL) + pattern


@dataclass(frozen=True)
class ActionContext:
    """What an action works with: the instance's client and its key namespace."""

    client: redis.Redis | RedisCluster
    keys: Keyspace = Keyspace()
    max_value_bytes: int | None = None  # largest value a write action stores; None: no limit
    socket_timeout: float | None = None  # s, how long one command may wait for its reply


@dataclass(frozen=True)
class ActionSpec:
    """A catalogue entry: how to run an action and what it reads and writes."""

    name: str
    summary: str
    input: type[ActionInput]
    output: type[ActionOutput]
    run: Callable[[ActionContext, Any], ActionOutput]
    read_only: bool
    destructive: bool = False

    @property
    def writes(self) -> bool:
        """Whether the action changes data (refused when the addon is configured read_only)."""
        return not self.read_only


def _scalar_to_str(value: Any) -> Any:
    """Template-rendered keys may arrive as numbers; booleans and objects are refused."""
    if type(value) is str:  # the usual case, checked first: this runs on every action
        return value
    if isinstance(value, bool):
        raise ValueError("must be a string, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``model.model_validate(data)`` without its Python wrapper, which costs ~1 us per call.

    Same validator, same result and errors: the wrapper only forwards its (here unused) options.
    Used on the per-action hot path (see docs/benchmarks.md).
    """
    return model.__pydantic_validator__.validate_python(data)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


NO_BOOL = BeforeValidator(_no_bool)  # a number parameter that refuses true/false


def _one_or_many(value: Any) -> Any:
    """A single key where a list is expected (a template rendered one name) becomes a list."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [value]
    return value


Key = Annotated[
    str,
    StringConstraints(min_length=1),
    BeforeValidator(_scalar_to_str),
    Field(description="Redis key (must not be empty)"),
]
Seconds = Annotated[
    int,
    BeforeValidator(_no_bool),
    Field(gt=0, description="A whole number of seconds greater than 0"),
]
Milliseconds = Annotated[
    int,
    BeforeValidator(_no_bool),
    Field(gt=0, description="A whole number of milliseconds greater than 0"),
]
Keys = Annotated[
    list[Key],
    BeforeValidator(_one_or_many),
    Field(min_length=1, max_length=MAX_BATCH, description="Redis keys (1 to 10000)"),
]
Encoding = Literal["text", "json", "base64"]
ENCODING_HELP = (
    '"text" (UTF-8 string), "json" (JSON text, parsed into data) or "base64" '
    "(raw bytes as base64 text: binary-safe)"
)


def as_text(value: bytes | str) -> str:
    """A Redis reply as text, whatever decode_responses is; UnicodeDecodeError for binary data."""
    return value if isinstance(value, str) else value.decode("utf-8")


def encode_value(ctx: ActionContext, value: Any, encoding: Encoding, key: str) -> bytes:
    """The bytes a write action stores for ``value``; 400 when malformed, 413 when too large.

    "text": strings as they are, other values as their JSON text; "json": the value's JSON text
    (a string becomes a JSON string); "base64": the bytes the base64 text decodes to.
    This is the one place the max_value_bytes limit is checked.
    """
    if value is None:
        raise AddonError(400, f"invalid input: value of {key!r} is null; pass a value to store")
    if encoding == "base64":
        if not isinstance(value, str):
            raise AddonError(400, f'invalid input: value of {key!r}: encoding "base64" needs text')
        try:
            data = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise AddonError(
                400, f"invalid input: value of {key!r} is not valid base64 text ({exc})"
            ) from None
    elif isinstance(value, bytes) and encoding == "text":
        data = value
    elif isinstance(value, str) and encoding == "text":
        data = value.encode("utf-8")
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise AddonError(
                400,
                f"invalid input: value of {key!r} cannot be stored as JSON text "
                f"({type(value).__name__})",
            ) from exc
        data = text.encode("utf-8")
    if ctx.max_value_bytes is not None and len(data) > ctx.max_value_bytes:
        raise AddonError(
            413,
            f"value of {key!r} is {len(data)} bytes, over the addon's max_value_bytes limit "
            f"({ctx.max_value_bytes}); nothing was written",
        )
    return data


def decode_value(raw: bytes, encoding: Encoding, key: str) -> tuple[str, Any]:
    """A stored value as ``(value, data)``: text or base64 text, and the parsed JSON for "json"."""
    if encoding == "base64":
        return base64.b64encode(raw).decode("ascii"), None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AddonError(
            422, f'the value of {key!r} is not UTF-8 text: read it with encoding "base64"'
        ) from None
    if encoding == "text":
        return text, None
    try:
        return text, json.loads(text)
    except ValueError as exc:
        raise AddonError(
            422, f'the value of {key!r} is not valid JSON ({exc.msg}): read it as "text"'
        ) from None


def ttl_seconds(reply: int) -> int | None:
    """A TTL reply in seconds: None for a missing key (-2), -1 for a key without expiry."""
    return None if reply == -2 else int(reply)


# --- deployments of several nodes ---------------------------------------------------------------
# Actions stay mode-agnostic: what differs in Redis Cluster (keys of one multi-key command must
# share a hash slot; SCAN covers one node) is handled by the helpers below.


def is_cluster(client: object) -> bool:
    """Whether ``client`` talks to a Redis Cluster (keys spread over nodes by hash slot)."""
    return isinstance(client, RedisCluster)


def slot_groups(ctx: ActionContext, stored: list[str]) -> list[list[str]]:
    """Stored keys split so each part fits one multi-key command: one part unless on a cluster,
    where keys are grouped by hash slot (the order inside a group is kept)."""
    if not is_cluster(ctx.client):
        return [stored]
    groups: dict[int, list[str]] = {}
    for key in stored:
        groups.setdefault(ctx.client.keyslot(key), []).append(key)
    return list(groups.values())


def per_group(ctx: ActionContext, command: str, groups: list[list[Any]]) -> list[Any]:
    """One ``command`` per group, all in one pipelined round trip (or one plain call); replies
    are raw bytes."""
    if len(groups) == 1:
        return [ctx.client.execute_command(command, *groups[0], **RAW)]
    pipe = ctx.client.pipeline(transaction=False)
    for group in groups:
        pipe.execute_command(command, *group, **RAW)
    return list(pipe.execute())


def per_primary(ctx: ActionContext, command: Callable[..., Any]) -> dict[str, Any]:
    """``command(client, **target)`` on every primary of a cluster, by node name ("host:port");
    on a single server, its one reply under the name ""."""
    if not is_cluster(ctx.client):
        return {"": command(ctx.client)}
    replies = command(ctx.client, target_nodes=RedisCluster.PRIMARIES)
    primaries = ctx.client.get_primaries()
    if len(primaries) == 1:  # redis-py unwraps the reply of a single target
        return {primaries[0].name: replies}
    return dict(replies)


CURSOR_PATTERN = r"^([0-9]{1,5}:)?[0-9]{1,20}(:[0-9a-f]{8})?$"
CLUSTER_CURSOR_HELP = (
    'a cursor of the form "slot:cursor:map" comes from a Redis Cluster scan and a plain number '
    'from a single server: start again with cursor "0"'
)
CLUSTER_CHANGED = (
    "the cluster changed since this listing began (a resharding or a failover moved hash slots): "
    'keys could be missed or listed twice, so the cursor is refused: restart from cursor "0"'
)


class Scanner:
    """SCAN over every primary of the deployment, one node after the other.

    A position is ``(shard, cursor)``: the index of a primary in :attr:`shards` and that node's
    SCAN cursor; ``None`` once every primary has been scanned. Primaries are ordered by the
    lowest hash slot each serves, which also names them in the text form of a position (the
    ``cursor`` actions hand back): ``"<slot>:<cursor>:<map>"`` on a cluster, the plain SCAN
    cursor on a single server, and ``"0"`` for both the start and the end. ``<map>`` is a short
    digest of the slot map (which primary serves which slots) when the listing began: SCAN's
    no-loss guarantee holds only while the map stays, so a cursor whose map is no longer the
    cluster's is refused (410, restart from "0"), as is a page during which the map changed
    (see :meth:`check_unchanged`).
    """

    def __init__(self, ctx: ActionContext) -> None:
        self.client = ctx.client
        self.cluster = is_cluster(ctx.client)
        self.shards: list[tuple[int, ClusterNode | None]] = [(0, None)]
        self.topology = ""
        if self.cluster:
            self.topology = _live_topology(ctx.client)
            if self.topology != _cached_topology(ctx.client):  # the client has not heard yet
                ctx.client.nodes_manager.initialize()
            self.shards = _primaries_by_lowest_slot(ctx.client)

    def check_unchanged(self, began: str | None = None) -> None:
        """410 unless the cluster's slot map is the one the listing began with (``began``: the
        cursor's; else the one this scanner started with)."""
        if self.cluster and (began or self.topology) != _live_topology(self.client):
            raise AddonError(410, CLUSTER_CHANGED)

    def start(self) -> tuple[int, int]:
        return 0, 0

    def decode(self, text: str) -> tuple[int, int] | None:
        """The position a cursor string names (``"0"``: the start); 400 for a foreign one."""
        parts = text.split(":")
        if (len(parts) > 1) != self.cluster and text != "0":
            raise AddonError(
                400,
                f"invalid input: cursor {text!r} is not from this deployment: "
                + CLUSTER_CURSOR_HELP,
            )
        if len(parts) == 1:
            return 0, int(text)
        slot, cursor_text = int(parts[0]), parts[1]
        if slot >= REDIS_CLUSTER_HASH_SLOTS:
            raise AddonError(400, f"invalid input: cursor {text!r} names no hash slot")
        if len(parts) != 3:
            raise AddonError(
                400, f"invalid input: cursor {text!r} lacks its slot map: " + CLUSTER_CURSOR_HELP
            )
        self.check_unchanged(parts[2])
        # the primary now serving the slot range that began at ``slot``
        index = max((i for i, (lowest, _) in enumerate(self.shards) if lowest <= slot), default=0)
        return index, int(cursor_text)

    def encode(self, position: tuple[int, int] | None) -> str:
        if position is None:
            return "0"
        index, cursor = position
        return f"{self.shards[index][0]}:{cursor}:{self.topology}" if self.cluster else str(cursor)

    def step(
        self, position: tuple[int, int], match: str, count: int
    ) -> tuple[tuple[int, int] | None, list[str]]:
        """One SCAN call at ``position``: the next position and the stored keys it returned."""
        index, cursor = position
        node = self.shards[index][1]
        if node is None:
            cursor, batch = self.client.scan(cursor=cursor, match=match, count=count)
        else:
            cursors, batch = self.client.scan(
                cursor=cursor, match=match, count=count, target_nodes=node
            )
            cursor = next(iter(cursors.values())) if isinstance(cursors, dict) else cursors
        keys = [as_text(key) for key in batch]
        if int(cursor) != 0:
            return (index, int(cursor)), keys
        return ((index + 1, 0) if index + 1 < len(self.shards) else None), keys


def _digest(owners: list[str]) -> str:
    """A short digest of who serves each hash slot (8 hex digits)."""
    runs: list[str] = []
    for slot, owner in enumerate(owners):
        if slot == 0 or owner != owners[slot - 1]:
            runs.append(f"{slot}={owner}")
    return hashlib.blake2b(";".join(runs).encode(), digest_size=4).hexdigest()


def _live_topology(client: RedisCluster) -> str:
    """The digest of the slot map as a node of the cluster reports it now (CLUSTER SLOTS)."""
    owners = [""] * REDIS_CLUSTER_HASH_SLOTS
    reply = client.cluster_slots(target_nodes=client.get_default_node())
    for (start, end), served in reply.items():
        host, port = served["primary"]
        owners[int(start) : int(end) + 1] = [f"{host}:{port}"] * (int(end) - int(start) + 1)
    return _digest(owners)


def _cached_topology(client: RedisCluster) -> str:
    """The digest of the slot map the client routes commands by."""
    owners = [""] * REDIS_CLUSTER_HASH_SLOTS
    for slot, nodes in client.nodes_manager.slots_cache.items():
        owners[slot] = nodes[0].name
    return _digest(owners)


def _primaries_by_lowest_slot(client: RedisCluster) -> list[tuple[int, ClusterNode | None]]:
    """Each primary of the client's slot map once, with the lowest slot it serves, in order."""
    lowest: dict[str, tuple[int, ClusterNode]] = {}
    for slot, nodes in client.nodes_manager.slots_cache.items():
        primary = nodes[0]
        if primary.name not in lowest or slot < lowest[primary.name][0]:
            lowest[primary.name] = (slot, primary)
    return sorted(lowest.values(), key=lambda entry: entry[0])
