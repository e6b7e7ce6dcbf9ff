"""history_clear: forget a session's chat history."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)
from redis_rooms_pkg.actions.history_key import KEY_PREFIX, history_key


class HistoryClearOutput(ActionOutput):
    session_id: str | None = Field(default="", description="Conversation id")
    cleared: bool | None = Field(default=False, description="Whether there was a history to forget")


def history_clear(ctx: ActionContext, params: Params) -> HistoryClearOutput:
    label = KEY_PREFIX + params.session_id
    cleared = ctx.client.unlink(history_key(ctx, params.session_id)) == 1
    message = f"cleared {label!r}" if cleared else f"{label!r} did not exist"
    return output(
        HistoryClearOutput, session_id=params.session_id, cleared=cleared, message=message
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "forget",
        "name": "Forget the conversation",
        "action": "redis-cache::history_clear",
        "parameters": {"session_id": "{{payload.session_id}}"},
    }
]
