"""zset_pop_due: atomically take the members of a sorted set whose score (a Unix time) passed."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, as_text, output
from redis_rooms_pkg.actions.params import MAX_POP
from redis_rooms_pkg.actions.scripts import CHECKS, run_script
from redis_rooms_pkg.actions.zset_add import score_text

# KEYS[1] sorted set; ARGV[1] count; ARGV[2] now (a Unix time) or "" for the server's clock.
# Reads the members scored at or below now, lowest first, at most count, and removes them in the
# same step. Returns {now, member, score, member, score...}.
SCRIPT = (
    CHECKS
    + f"""
local bad = whole(ARGV[1], '{MAX_POP}', 'count') or denied('ZREM', KEYS[1], 'm')
if bad then return bad end
local now = ARGV[2]
if now == '' then
  local t = redis.call('TIME')
  now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
end
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, ARGV[1],
  'WITHSCORES')
for i = 1, #due, 2 do
  redis.call('ZREM', KEYS[1], due[i])
end
table.insert(due, 1, now)
return due
"""
)


class ZsetPopDueOutput(ActionOutput):
    key: str | None = Field(default=None, description="Sorted-set key")
    members: list[str] | None = Field(
        default=None, description="Members taken, earliest score first"
    )
    scores: list[float] | None = Field(default=None, description="Their scores, in the same order")
    found: bool | None = Field(default=None, description="Whether any member was due")
    now: float | None = Field(default=None, description="The Unix time the scores were compared to")


def zset_pop_due(ctx: ActionContext, params: Params) -> ZsetPopDueOutput:
    now = "" if params.now is None else score_text(params.now)
    reply = run_script(ctx, SCRIPT, ctx.keys.key(params.key), params.count, now)
    members = [as_text(member) for member in reply[1::2]]
    scores = [float(score) for score in reply[2::2]]
    return output(
        ZsetPopDueOutput,
        key=params.key,
        members=members,
        scores=scores,
        found=bool(members),
        now=float(reply[0]),
        message=f"took {len(members)} due member(s) of {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "due-reminders",
        "name": "Reminders whose time has come",
        "action": "redis-cache::zset_pop_due",
        "parameters": {"key": "reminders", "count": 100},
    }
]
