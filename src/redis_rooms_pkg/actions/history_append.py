"""history_append: add messages to a session's chat history; trim and TTL in the same step."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Count,
    Seconds,
    check_call_size,
    encode_value,
)
from redis_rooms_pkg.actions.history_key import KEY_PREFIX, SessionId, history_key
from redis_rooms_pkg.actions.scripts import push

MAX_MESSAGES = 1000  # messages one call appends


def _one_or_many(value: Any) -> Any:
    """A single message object (a template rendered one) becomes a list of one."""
    return [value] if isinstance(value, dict) else value


class HistoryAppendInput(ActionInput):
    session_id: SessionId
    messages: Annotated[
        list[dict[str, Any]],
        BeforeValidator(_one_or_many),
        Field(
            min_length=1,
            max_length=MAX_MESSAGES,
            description='Messages {"role": ..., "content": ..., ...} to add, oldest first',
        ),
    ]
    max_messages: Count | None = Field(
        default=None, description="Keep only the newest max_messages messages"
    )
    ex: Seconds | None = Field(
        default=None, description="Forget the history ex seconds after the last append"
    )

    @field_validator("messages")
    @classmethod
    def _roles(cls, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, message in enumerate(messages):
            role = message.get("role")
            if not isinstance(role, str) or not role.strip():
                raise ValueError(f'message {index} needs a "role" (a non-empty string)')
            if "content" not in message:
                raise ValueError(f'message {index} needs a "content"')
        return messages


class HistoryAppendOutput(ActionOutput):
    session_id: str | None = Field(default="", description="Conversation id")
    key: str | None = Field(default="", description="Redis key of the history list")
    length: int | None = Field(
        default=0, description="Messages in the history after the append (and trim)"
    )


def history_append(ctx: ActionContext, params: HistoryAppendInput) -> HistoryAppendOutput:
    key = history_key(ctx, params.session_id)
    label = KEY_PREFIX + params.session_id
    entries = [encode_value(ctx, message, "text", label) for message in params.messages]
    check_call_size(ctx, sum(map(len, entries)), "messages")
    # One atomic step: append, keep the newest max_messages, restart the TTL (it slides).
    length = push(ctx, key, entries, "right", params.max_messages, params.ex)
    return HistoryAppendOutput(
        session_id=params.session_id,
        key=label,
        length=length,
        message=f"appended {len(entries)} message(s) to {label!r} ({length} kept)",
    )


SPEC = ActionSpec(
    name="history_append",
    summary="Append messages to a session's chat history, keeping the newest max_messages.",
    input=HistoryAppendInput,
    output=HistoryAppendOutput,
    run=history_append,
    read_only=False,
)
