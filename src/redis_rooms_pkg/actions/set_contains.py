"""set_contains: tell which members are in a set (SMISMEMBER)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import RAW, ActionContext, ActionOutput, Params, output
from redis_rooms_pkg.actions.set_add import encode_members


class SetContainsOutput(ActionOutput):
    key: str | None = Field(default=None, description="Set key")
    contains: dict[str, bool] | None = Field(
        default=None, description="member -> whether it is in the set"
    )
    count: int | None = Field(default=None, description="Number of the given members in the set")


def set_contains(ctx: ActionContext, params: Params) -> SetContainsOutput:
    members = list(dict.fromkeys(params.members))
    data = encode_members(ctx, params.key, members)
    flags = ctx.client.execute_command("SMISMEMBER", ctx.keys.key(params.key), *data, **RAW)
    contains = {member: bool(int(flag)) for member, flag in zip(members, flags, strict=True)}
    count = sum(contains.values())
    return output(
        SetContainsOutput,
        key=params.key,
        contains=contains,
        count=count,
        message=f"{count} of {len(members)} member(s) are in {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "seen-before",
        "name": "Which items were seen?",
        "action": "redis-cache::set_contains",
        "parameters": {"key": "seen:feed", "members": ["{{payload.item_id}}"]},
    }
]
