"""zset_add: add members with scores to a sorted set (ZADD, NX on ask) and its expiry."""

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

# KEYS[1] sorted set; ARGV[1] expiry in s or ""; ARGV[2] "NX" or ""; ARGV[3..] score, member...
# Scores are finite numbers (checked before sending: ZADD refuses others half-way otherwise).
# Returns how many members are new.
SCRIPT = (
    CHECKS
    + f"""
local bad = whole(ARGV[1], '{EXPIRE_MAX}', 'expiry')
  or denied('ZADD', KEYS[1], '0', 'm')
  or (ARGV[1] ~= '' and denied('EXPIRE', KEYS[1], ARGV[1]))
if bad then return bad end
for i = 3, #ARGV, 2 do
  local score = tonumber(ARGV[i])
  if not score or score ~= score or score == math.huge or score == -math.huge then
    return redis.error_reply('ERR score must be a finite number')
  end
end
local added = 0
for i = 3, #ARGV, {CHUNK} do
  local last = math.min(i + {CHUNK - 1}, #ARGV)
  if ARGV[2] == 'NX' then
    added = added + redis.call('ZADD', KEYS[1], 'NX', unpack(ARGV, i, last))
  else
    added = added + redis.call('ZADD', KEYS[1], unpack(ARGV, i, last))
  end
end
if ARGV[1] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return added
"""
)


def score_text(score: float) -> str:
    """A score as Redis reads it: whole numbers without a fraction, others exactly (repr)."""
    score = float(score)  # a default (never validated) may be an int
    return str(int(score)) if score.is_integer() and abs(score) < 2**53 else repr(score)


class ZsetAddOutput(ActionOutput):
    key: str | None = Field(default=None, description="Sorted-set key")
    added: int | None = Field(default=None, description="Number of members that were new")


def zset_add(ctx: ActionContext, params: Params) -> ZsetAddOutput:
    pairs: list[str | bytes] = []
    size = 0
    for member, score in params.scores.items():
        data = encode_value(ctx, member, "text", params.key)
        text = score_text(score)
        pairs += [text, data]
        size += len(data) + len(text)
    check_call_size(ctx, size, "members")
    nx = "NX" if params.only_new else ""
    added = int(run_script(ctx, SCRIPT, ctx.keys.key(params.key), params.ex or "", nx, *pairs))
    return output(
        ZsetAddOutput,
        key=params.key,
        added=added,
        message=f"{len(params.scores)} member(s) in {params.key!r} ({added} new)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "schedule-reminder",
        "name": "Send the reminder at this Unix time",
        "action": "redis-cache::zset_add",
        "parameters": {"key": "reminders", "scores": {"{{payload.user_id}}": 1767225600}},
    }
]
