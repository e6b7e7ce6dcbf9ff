"""Where an agent's chat history lives: one Redis list per session, one JSON message per entry."""

from __future__ import annotations

from redis_rooms_pkg.actions.base import ActionContext

KEY_PREFIX = "history:"  # a session's list is the key "history:<session_id>" (under key_prefix)


def history_key(ctx: ActionContext, session_id: str) -> str:
    """The stored key of a session's history."""
    return ctx.keys.key(KEY_PREFIX + session_id)
