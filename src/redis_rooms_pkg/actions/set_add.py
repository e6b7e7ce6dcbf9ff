"""set_add: add members to a set and say which were new (SADD per member), with its expiry."""

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
from redis_rooms_pkg.actions.scripts import CHECKS, EXPIRE_MAX, run_script

# KEYS[1] set; ARGV[1] expiry in s or ""; ARGV[2..] members. Adds each member, noting whether
# it was new (1) or already there (0), then sets the expiry; returns the flags in order.
SCRIPT = (
    CHECKS
    + f"""
local bad = whole(ARGV[1], '{EXPIRE_MAX}', 'expiry')
  or denied('SADD', KEYS[1], 'm')
  or (ARGV[1] ~= '' and denied('EXPIRE', KEYS[1], ARGV[1]))
if bad then return bad end
local new = {{}}
for i = 2, #ARGV do
  new[#new + 1] = redis.call('SADD', KEYS[1], ARGV[i])
end
if ARGV[1] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return new
"""
)


class SetAddOutput(ActionOutput):
    key: str | None = Field(default=None, description="Set key")
    new_members: list[str] | None = Field(
        default=None, description="The given members that were not in the set, in order"
    )
    added: int | None = Field(default=None, description="Number of members that were new")


def encode_members(ctx: ActionContext, key: str, members: list[str]) -> list[bytes]:
    """Each member's bytes (max_value_bytes each; max_call_bytes together)."""
    data = [encode_value(ctx, member, "text", key) for member in members]
    check_call_size(ctx, sum(map(len, data)), "members")
    return data


def set_add(ctx: ActionContext, params: Params) -> SetAddOutput:
    data = encode_members(ctx, params.key, params.members)
    flags = run_script(ctx, SCRIPT, ctx.keys.key(params.key), params.ex or "", *data)
    new = [member for member, flag in zip(params.members, flags, strict=True) if int(flag)]
    return output(
        SetAddOutput,
        key=params.key,
        new_members=new,
        added=len(new),
        message=f"added {len(new)} new member(s) of {len(params.members)} to {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "mark-seen",
        "name": "Have we seen this item?",
        "action": "redis-cache::set_add",
        "parameters": {"key": "seen:feed", "members": ["{{payload.item_id}}"], "ex": 604800},
    }
]
