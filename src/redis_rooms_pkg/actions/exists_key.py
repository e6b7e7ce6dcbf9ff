"""exists_key: tell which of some keys exist."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec, Keys


class ExistsKeyInput(ActionInput):
    keys: Keys


class ExistsKeyOutput(ActionOutput):
    exists: dict[str, bool] | None = Field(
        default_factory=dict, description="key -> whether it exists"
    )
    count: int | None = Field(default=0, description="Number of the given keys that exist")


def exists_each(ctx: ActionContext, names: list[str]) -> list[bool]:
    """EXISTS per key, pipelined in one round trip (each command names one key)."""
    pipe = ctx.client.pipeline(transaction=False)
    for name in names:
        pipe.exists(ctx.keys.key(name))
    return [bool(reply) for reply in pipe.execute()]


def exists_key(ctx: ActionContext, params: ExistsKeyInput) -> ExistsKeyOutput:
    names = list(dict.fromkeys(params.keys))
    exists = dict(zip(names, exists_each(ctx, names), strict=True))
    count = sum(exists.values())
    return ExistsKeyOutput(
        exists=exists, count=count, message=f"{count} of {len(names)} key(s) exist"
    )


SPEC = ActionSpec(
    name="exists_key",
    summary="Tell which of the given keys exist (exists per key, count of those that do).",
    input=ExistsKeyInput,
    output=ExistsKeyOutput,
    run=exists_key,
    read_only=True,
)
