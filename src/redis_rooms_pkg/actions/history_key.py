"""Where an agent's chat history lives: one Redis list per session, one JSON message per entry."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from redis_rooms_pkg.actions.base import NAME_HELP, ActionContext, Name

KEY_PREFIX = "history:"  # a session's list is the key "history:<session_id>" (under key_prefix)

SessionId = Annotated[
    Name,
    Field(
        description=f"Conversation id ({NAME_HELP}); the history is the list at "
        '"history:<session_id>"'
    ),
]


def history_key(ctx: ActionContext, session_id: str) -> str:
    """The stored key of a session's history."""
    return ctx.keys.key(KEY_PREFIX + session_id)
