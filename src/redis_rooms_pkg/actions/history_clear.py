"""history_clear: forget a session's chat history."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec
from redis_rooms_pkg.actions.history_key import KEY_PREFIX, SessionId, history_key


class HistoryClearInput(ActionInput):
    session_id: SessionId


class HistoryClearOutput(ActionOutput):
    session_id: str | None = Field(default="", description="Conversation id")
    cleared: bool | None = Field(default=False, description="Whether there was a history to forget")


def history_clear(ctx: ActionContext, params: HistoryClearInput) -> HistoryClearOutput:
    label = KEY_PREFIX + params.session_id
    cleared = ctx.client.unlink(history_key(ctx, params.session_id)) == 1
    message = f"cleared {label!r}" if cleared else f"{label!r} did not exist"
    return HistoryClearOutput(session_id=params.session_id, cleared=cleared, message=message)


SPEC = ActionSpec(
    name="history_clear",
    summary="Forget a session's chat history; cleared is false when there was none.",
    input=HistoryClearInput,
    output=HistoryClearOutput,
    run=history_clear,
    read_only=False,
    destructive=True,
)
