"""history_append: add messages to a session's chat history; trim and TTL in the same step."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    check_call_size,
    encode_value,
    output,
)
from redis_rooms_pkg.actions.history_key import KEY_PREFIX, history_key
from redis_rooms_pkg.actions.scripts import push


class HistoryAppendOutput(ActionOutput):
    session_id: str | None = Field(default="", description="Conversation id")
    key: str | None = Field(default="", description="Redis key of the history list")
    length: int | None = Field(
        default=0, description="Messages in the history after the append (and trim)"
    )


def history_append(ctx: ActionContext, params: Params) -> HistoryAppendOutput:
    key = history_key(ctx, params.session_id)
    label = KEY_PREFIX + params.session_id
    entries = [encode_value(ctx, message, "text", label) for message in params.messages]
    check_call_size(ctx, sum(map(len, entries)), "messages")
    # One atomic step: append, keep the newest max_messages, restart the TTL (it slides).
    length = push(ctx, key, entries, "right", params.max_messages, params.ex)
    return output(
        HistoryAppendOutput,
        session_id=params.session_id,
        key=label,
        length=length,
        message=f"appended {len(entries)} message(s) to {label!r} ({length} kept)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "remember",
        "name": "Remember the exchange",
        "action": "redis-cache::history_append",
        "parameters": {
            "session_id": "{{payload.session_id}}",
            "messages": [
                {"role": "user", "content": "{{payload.message}}"},
                {"role": "assistant", "content": "{{ask-llm.output.reply}}"},
            ],
            "max_messages": 50,
            "ex": 604800,
        },
    }
]
