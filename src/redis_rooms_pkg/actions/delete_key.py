"""delete_key: remove a key (UNLINK: the memory is freed in the background)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec, Key


class DeleteKeyInput(ActionInput):
    key: Key


class DeleteKeyOutput(ActionOutput):
    key: str = Field(default="", description="Redis key that was deleted")
    deleted: bool = Field(default=False, description="Whether the key existed and was deleted")


def delete_key(ctx: ActionContext, params: DeleteKeyInput) -> DeleteKeyOutput:
    deleted = ctx.client.unlink(ctx.keys.key(params.key)) == 1
    message = f"deleted {params.key!r}" if deleted else f"{params.key!r} did not exist"
    return DeleteKeyOutput(key=params.key, deleted=deleted, message=message)


SPEC = ActionSpec(
    name="delete_key",
    summary="Remove a key; deleted is false when it did not exist.",
    input=DeleteKeyInput,
    output=DeleteKeyOutput,
    run=delete_key,
    read_only=False,
    destructive=True,
)
