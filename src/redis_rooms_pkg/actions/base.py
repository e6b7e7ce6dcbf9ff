"""What every action shares: its catalogue entry, the response envelope, parameter types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import redis
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
)


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


def _scalar_to_str(value: Any) -> Any:
    """Template-rendered keys may arrive as numbers; booleans and objects are refused."""
    if isinstance(value, bool):
        raise ValueError("must be a string, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds, not a boolean")
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


def as_text(value: bytes | str) -> str:
    """A Redis reply as text, whatever decode_responses is; UnicodeDecodeError for binary data."""
    return value if isinstance(value, str) else value.decode("utf-8")
