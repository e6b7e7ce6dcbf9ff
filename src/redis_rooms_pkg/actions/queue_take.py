"""queue_take: hand out jobs of a queue to a consumer: reclaimed ones first, then new ones."""

from __future__ import annotations

import time
from typing import Any

import redis
from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, as_text, output
from redis_rooms_pkg.actions.list_pop import MIN_BLOCK, block_slice
from redis_rooms_pkg.actions.params import MAX_DELIVERIES, MAX_RECLAIM_S, MAX_TAKE
from redis_rooms_pkg.actions.queue_keys import (
    FORGET,
    FORGET_CHECK,
    JOB_FIELD,
    QueueKeys,
    check_names,
    job_of,
    queue_keys,
    run_queue_script,
)
from redis_rooms_pkg.actions.scripts import CHECKS

RECLAIM_SCANS = 10  # XAUTOCLAIM calls one take makes at most (each looks at 10 x count entries)
# The reason a job queue_take moves to the dead-letter queue is kept with, as queue_fail's is
DEAD_REASON = "handed out max_deliveries times, never finished (moved by queue_take)"

# The queue's keys (see queue_keys: stream, dead-letter stream, dedupe hash); ARGV[1] group,
# ARGV[2] consumer, ARGV[3] count, ARGV[4] reclaim after (ms), ARGV[5] max deliveries, ARGV[6]
# the dead-letter reason. Creates the group on first use (reading the stream from its start),
# then reclaims jobs pending longer than ARGV[4] (XAUTOCLAIM: their delivery count goes up), then
# reads new ones (XREADGROUP >). A reclaimed job whose count is now over ARGV[5] (it was handed
# out ARGV[5] times and never finished) is not handed out: it is copied to KEYS[2] (job, id,
# deliveries: the times it was handed out, reason), acknowledged and deleted, its dedupe marker
# forgotten, as queue_fail does. Returns {{dead id, ...}, {id, fields, deliveries, ...}}: the ids
# of the jobs moved, then the jobs taken.
SCRIPT = (
    CHECKS
    + FORGET
    + f"""
local group, consumer = ARGV[1], ARGV[2]
local bad = whole(ARGV[3], '{MAX_TAKE}', 'count')
  or whole(ARGV[4], '{MAX_RECLAIM_S * 1000}', 'reclaim_after_s in ms')
  or whole(ARGV[5], '{MAX_DELIVERIES}', 'max_deliveries')
  or denied('XGROUP', 'CREATE', KEYS[1], group, '0', 'MKSTREAM')
  or denied('XAUTOCLAIM', KEYS[1], group, consumer, '0', '0-0')
  or denied('XREADGROUP', 'GROUP', group, consumer, 'STREAMS', KEYS[1], '>')
  or denied('XADD', KEYS[2], '*', 'f', 'v')
  or denied('XACK', KEYS[1], group, '0-1')
  or denied('XDEL', KEYS[1], '0-1')
  or {FORGET_CHECK}
if bad then return bad end
local made = redis.pcall('XGROUP', 'CREATE', KEYS[1], group, '0', 'MKSTREAM')
if type(made) == 'table' and made.err and not string.find(tostring(made.err), 'BUSYGROUP') then
  return made
end
local count, most = tonumber(ARGV[3]), tonumber(ARGV[5])
local out, dead = {{}}, {{}}
local taken = 0
local cursor = '0-0'
for _ = 1, {RECLAIM_SCANS} do
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], group, consumer, ARGV[4], cursor,
    'COUNT', count - taken)
  for _, entry in ipairs(claimed[2]) do
    if type(entry) == 'table' and type(entry[2]) == 'table' then
      local id, fields = entry[1], entry[2]
      local pending = redis.call('XPENDING', KEYS[1], group, id, id, 1)
      local deliveries = pending[1] and tonumber(pending[1][4]) or 1
      if deliveries > most then
        local job = ''
        for i = 1, #fields, 2 do
          if fields[i] == '{JOB_FIELD}' then job = fields[i + 1] end
        end
        redis.call('XADD', KEYS[2], '*', '{JOB_FIELD}', job, 'id', id,
          'deliveries', deliveries - 1, 'reason', ARGV[6])
        redis.call('XACK', KEYS[1], group, id)
        forget(id, fields)
        redis.call('XDEL', KEYS[1], id)
        dead[#dead + 1] = id
      else
        out[#out + 1] = id
        out[#out + 1] = fields
        out[#out + 1] = deliveries
        taken = taken + 1
      end
    end
  end
  cursor = claimed[1]
  if taken >= count or cursor == '0-0' then break end
end
if taken < count then
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count - taken,
    'STREAMS', KEYS[1], '>')
  if reply then
    local stream = type(reply[1]) == 'table' and reply[1] or reply
    for _, entry in ipairs(stream[2] or {{}}) do
      out[#out + 1] = entry[1]
      out[#out + 1] = entry[2]
      out[#out + 1] = 1
    end
  end
end
return {{dead, out}}
"""
)


class QueueTakeOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    jobs: list[dict[str, Any]] | None = Field(
        default=None,
        description='Jobs taken, each {"id", "job", "deliveries"} (deliveries: 1 the first time)',
    )
    count: int | None = Field(default=None, description="Number of jobs taken")
    found: bool | None = Field(default=None, description="Whether any job was taken")
    moved_to_dead: int | None = Field(
        default=None,
        description="Jobs this call moved to the dead-letter queue instead of handing them out "
        "(handed out max_deliveries times, never finished)",
    )
    moved_to_dead_ids: list[str] | None = Field(
        default=None, description="The ids of those jobs (their ids in the queue)"
    )


def _jobs(flat: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": as_text(flat[i]), "job": job_of(flat[i + 1]), "deliveries": int(flat[i + 2])}
        for i in range(0, len(flat), 3)
    ]


def _take_now(
    ctx: ActionContext, keys: QueueKeys, params: Params, consumer: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """The jobs one run of the script hands out, and the ids of those it moved to the dead-letter
    queue."""
    reclaim_ms = max(1, round(params.reclaim_after_s * 1000))
    dead, flat = run_queue_script(
        ctx,
        SCRIPT,
        keys,
        params.group,
        consumer,
        params.count,
        reclaim_ms,
        params.max_deliveries,
        DEAD_REASON,
    )
    return _jobs(flat), [as_text(i) for i in dead]


def _wait_new(
    ctx: ActionContext, stream: str, params: Params, consumer: str, seconds: float
) -> list[dict[str, Any]]:
    """New jobs, waiting up to ``seconds`` in one blocking XREADGROUP (shorter than the socket
    timeout); an empty list when none came."""
    try:
        reply = ctx.client.xreadgroup(
            params.group,
            consumer,
            {stream: ">"},
            count=params.count,
            block=max(1, round(seconds * 1000)),
        )
    except redis.ResponseError as exc:
        if "NOGROUP" in str(exc):  # the queue was deleted meanwhile: the next take recreates it
            return []
        raise
    if not reply:
        return []
    # redis-py parses it: RESP2 [[stream, [(id, fields)...]]], RESP3 {stream: [[(id, fields)...]]}
    entries = next(iter(reply.values()))[0] if isinstance(reply, dict) else reply[0][1]
    return [{"id": as_text(i), "job": job_of(fields), "deliveries": 1} for i, fields in entries]


def queue_take(ctx: ActionContext, params: Params) -> QueueTakeOutput:
    keys = queue_keys(ctx, params.queue)
    check_names(ctx, params)
    consumer = params.consumer or ctx.addon_id or "redis-rooms"
    jobs, dead = _take_now(ctx, keys, params, consumer)
    deadline = time.monotonic() + params.wait_s
    slice_s = block_slice(ctx.socket_timeout)
    while not jobs:
        remaining = deadline - time.monotonic()
        if remaining < MIN_BLOCK:
            break
        jobs = _wait_new(ctx, keys.stream, params, consumer, min(remaining, slice_s))
        if not jobs:  # a slice passed: jobs may have become reclaimable meanwhile
            jobs, more = _take_now(ctx, keys, params, consumer)
            dead += more
    message = (
        f"took {len(jobs)} job(s) from {params.queue!r} as {consumer!r}"
        if jobs
        else f"no job ready in {params.queue!r}"
        + (f" (waited {params.wait_s:g}s)" if params.wait_s else "")
    )
    if dead:
        message += (
            f"; moved {len(dead)} job(s) to the dead-letter queue (handed out "
            f"{params.max_deliveries} times, never finished)"
        )
    return output(
        QueueTakeOutput,
        queue=params.queue,
        jobs=jobs,
        count=len(jobs),
        found=bool(jobs),
        moved_to_dead=len(dead),
        moved_to_dead_ids=dead,
        message=message,
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "take-job",
        "name": "Take the next thumbnail job",
        "action": "redis-cache::queue_take",
        "parameters": {"queue": "thumbnails", "wait_s": 5, "reclaim_after_s": 300},
    }
]
