"""What every action shares: its catalogue entry, the response envelope, parameter types."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

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

from redis_rooms_pkg.services.errors import AddonError

MAX_BATCH = 10_000  # keys one batch action (get_many, set_many, exists_key, delete_key) takes
RAW = {NEVER_DECODE: []}  # execute_command option: the reply as bytes, whatever decode_responses


class TokensSchema(BaseModel):
    """LLM tokens spent by a step: always 0 for a storage addon."""

    stepAmount: int = 0  # noqa: N815 - the engine's field name
    totalCurrentAmount: int = 0  # noqa: N815 - the engine's field name


class ActionResponse(BaseModel):
    """What every action returns to the engine."""

    output: SerializeAsAny[BaseModel] | None = None
    tokens: TokensSchema = Field(default_factory=TokensSchema)
    message: str | None = None
    code: int | None = None


class ActionInput(BaseModel):
    """Base of action parameter models: unknown parameters are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionOutput(BaseModel):
    """Base of action outputs: every field has a default so a failed step still has an output."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(default="", description="Status message")


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

    client: redis.Redis
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
    if isinstance(value, bool):
        raise ValueError("must be a string, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


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
