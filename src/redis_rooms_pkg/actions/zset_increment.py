"""zset_increment: add to a member's score in a sorted set (ZINCRBY): leaderboards."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, encode_value, output
from redis_rooms_pkg.actions.scripts import CHECKS, run_script
from redis_rooms_pkg.actions.zset_add import score_text
from redis_rooms_pkg.services.errors import AddonError

# KEYS[1] sorted set; ARGV[1] amount (a finite number), ARGV[2] member. Adds the amount unless
# the score would stop being a finite number (then nil, nothing written); returns the new score.
SCRIPT = (
    CHECKS
    + """
local bad = denied('ZINCRBY', KEYS[1], '1', 'm')
if bad then return bad end
local current = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]) or '0')
local new = current + tonumber(ARGV[1])
if new ~= new or new == math.huge or new == -math.huge then return nil end
return redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
"""
)


class ZsetIncrementOutput(ActionOutput):
    key: str | None = Field(default=None, description="Sorted-set key")
    member: str | None = Field(default=None, description="The member")
    score: float | None = Field(default=None, description="Its score after the increment")


def zset_increment(ctx: ActionContext, params: Params) -> ZsetIncrementOutput:
    data = encode_value(ctx, params.member, "text", params.key)
    reply = run_script(ctx, SCRIPT, ctx.keys.key(params.key), score_text(params.by), data)
    if reply is None:
        raise AddonError(
            400,
            f"invalid input: adding {params.by:g} to the score of {params.member!r} would "
            "overflow (not a finite number); nothing was written",
        )
    score = float(reply)
    return output(
        ZsetIncrementOutput,
        key=params.key,
        member=params.member,
        score=score,
        message=f"{params.member!r} in {params.key!r} now scores {score:g}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "add-points",
        "name": "Ten points for the player",
        "action": "redis-cache::zset_increment",
        "parameters": {"key": "leaderboard", "member": "{{payload.player}}", "by": 10},
    }
]
