"""hash_get: read fields of a record (a Redis hash), all of them when none are named."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    check_response,
    reply_size,
)
from redis_rooms_pkg.actions.scripts import CHUNK, run_script

# KEYS[1] hash; ARGV fields. Returns {1 if the hash exists else 0, the fields' values}.
SCRIPT = f"""
local values = {{}}
for i = 1, #ARGV, {CHUNK} do
  local part = redis.call('HMGET', KEYS[1], unpack(ARGV, i, math.min(i + {CHUNK - 1}, #ARGV)))
  for _, value in ipairs(part) do
    values[#values + 1] = value
  end
end
return {{redis.call('EXISTS', KEYS[1]), values}}
"""


class HashGetOutput(ActionOutput):
    key: str | None = Field(default="", description="Hash key")
    values: dict[str, str | None] | None = Field(
        default_factory=dict, description="Field -> value (null for a named field that is absent)"
    )
    found: bool | None = Field(default=False, description="Whether the hash exists")


def hash_get(ctx: ActionContext, params: Params) -> HashGetOutput:
    key = ctx.keys.key(params.key)
    if params.fields is None:
        raw = ctx.client.hgetall(key)
        check_response(ctx, reply_size(raw), "name the fields to read (fields), a few per call")
        values = {as_text(name): as_text(value) for name, value in raw.items()}
        found = bool(values)
    else:
        for name in params.fields:
            ctx.keys.check_name(name, "hash field")
        exists, replies = run_script(ctx, SCRIPT, key, *params.fields)
        check_response(ctx, reply_size(params.fields, replies), "name fewer fields per call")
        values = {
            name: None if value is None else as_text(value)
            for name, value in zip(params.fields, replies, strict=True)
        }
        found = exists == 1
    message = (
        f"read {len(values)} field(s) of {params.key!r}" if found else f"{params.key!r} not found"
    )
    return HashGetOutput(key=params.key, values=values, found=found, message=message)


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "load-profile",
        "name": "Load the user's plan",
        "action": "redis-cache::hash_get",
        "parameters": {"key": "user:{{payload.user_id}}", "fields": ["plan"]},
    }
]
