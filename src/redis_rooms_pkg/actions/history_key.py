"""Where an agent's chat history lives: one Redis list per session, one JSON message per entry."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from redis_rooms_pkg.actions.base import ActionContext, _scalar_to_str

KEY_PREFIX = "history:"  # a session's list is the key "history:<session_id>" (under key_prefix)

SessionId = Annotated[
    str,
    StringConstraints(min_length=1),
    BeforeValidator(_scalar_to_str),
    Field(description='Conversation id; the history is the list at "history:<session_id>"'),
]


def history_key(ctx: ActionContext, session_id: str) -> str:
    """The stored key of a session's history."""
    return ctx.keys.key(KEY_PREFIX + session_id)
