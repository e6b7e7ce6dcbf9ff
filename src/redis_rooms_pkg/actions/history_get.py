"""history_get: read a session's chat history, oldest message first."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    check_response,
    output_as_checked,
    parse_json,
    reply_size,
)
from redis_rooms_pkg.actions.history_key import KEY_PREFIX, history_key
from redis_rooms_pkg.services.errors import AddonError


class HistoryGetOutput(ActionOutput):
    session_id: str | None = Field(default="", description="Conversation id")
    messages: list[dict[str, Any]] | None = Field(
        default_factory=list, description="Messages, oldest first"
    )
    count: int | None = Field(default=0, description="Number of messages returned")
    found: bool | None = Field(default=False, description="Whether the session has a history")


def history_get(ctx: ActionContext, params: Params) -> HistoryGetOutput:
    label = KEY_PREFIX + params.session_id
    start = -params.last if params.last is not None else 0
    raw = ctx.client.lrange(history_key(ctx, params.session_id), start, -1)
    check_response(ctx, reply_size(raw), "read only the newest messages (last)")
    messages = []
    for index, entry in enumerate(raw):
        try:
            message = parse_json(as_text(entry))
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise AddonError(
                422,
                f"entry {index} of {label!r} is not a JSON message object: was the list "
                "written by something other than history_append?",
            )
        messages.append(message)
    message = f"{len(messages)} message(s) in {label!r}" if messages else f"{label!r} not found"
    return output_as_checked(  # each message checked above: a dict from json.loads
        HistoryGetOutput,
        session_id=params.session_id,
        messages=messages,
        count=len(messages),
        found=bool(messages),
        message=message,
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "load-history",
        "name": "Load the conversation",
        "action": "redis-cache::history_get",
        "parameters": {"session_id": "{{payload.session_id}}", "last": 20},
    }
]
