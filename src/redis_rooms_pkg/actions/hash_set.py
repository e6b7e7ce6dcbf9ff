"""hash_set: store fields of a record (a Redis hash) and its expiry in one atomic step."""

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
from redis_rooms_pkg.actions.scripts import CHECKS, CHUNK, EXPIRE_MAX, run_script

# KEYS[1] hash; ARGV[1] expiry in s or ""; ARGV[2..] field, value, field, value...
# Checks the expiry, sets the fields, then the expiry; returns how many fields are new.
SCRIPT = (
    CHECKS
    + f"""
local bad = whole(ARGV[1], '{EXPIRE_MAX}', 'expiry')
  or denied('HSET', KEYS[1], 'f', 'v')
  or (ARGV[1] ~= '' and denied('EXPIRE', KEYS[1], ARGV[1]))
if bad then return bad end
local added = 0
for i = 2, #ARGV, {CHUNK} do
  added = added + redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + {CHUNK - 1}, #ARGV)))
end
if ARGV[1] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return added
"""
)


class HashSetOutput(ActionOutput):
    key: str | None = Field(default="", description="Hash key")
    added: int | None = Field(default=0, description="Number of fields that did not exist before")


def hash_set(ctx: ActionContext, params: Params) -> HashSetOutput:
    key = ctx.keys.key(params.key)
    mapping = {}
    for name, value in params.fields.items():
        ctx.keys.check_name(name, "hash field")
        mapping[name] = encode_value(ctx, value, "text", f"{params.key}.{name}")
    pairs = [part for name, data in mapping.items() for part in (name, data)]
    check_call_size(
        ctx, sum(len(name.encode()) + len(data) for name, data in mapping.items()), "fields"
    )
    added = int(run_script(ctx, SCRIPT, key, params.ex or "", *pairs))
    return output(
        HashSetOutput,
        key=params.key,
        added=added,
        message=f"set {len(mapping)} field(s) of {params.key!r} ({added} new)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "save-profile",
        "name": "Save the user's profile",
        "action": "redis-cache::hash_set",
        "parameters": {
            "key": "user:{{payload.user_id}}",
            "fields": {"name": "{{payload.name}}", "plan": "{{payload.plan}}"},
            "ex": 86400,
        },
    }
]
