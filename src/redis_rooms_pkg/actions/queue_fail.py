"""queue_fail: give a job back for a retry, or move it to the dead-letter queue, atomically."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    encode_value,
    output,
)
from redis_rooms_pkg.actions.params import MAX_DELIVERIES
from redis_rooms_pkg.actions.queue_keys import (
    FORGET,
    FORGET_CHECK,
    JOB_FIELD,
    check_names,
    full_id,
    queue_keys,
    run_queue_script,
)
from redis_rooms_pkg.actions.scripts import CHECKS

# The queue's keys (see queue_keys: stream, dead-letter stream, dedupe hash); ARGV[1] group,
# ARGV[2] job id (whole: "<ms>-<seq>", so that XPENDING and XRANGE read that one entry and not a
# millisecond's), ARGV[3] max deliveries, ARGV[4] reason. A job that is not pending is left
# alone: {0}. One delivered max_deliveries times or more is copied to KEYS[2] (job, id,
# deliveries, reason), acknowledged and deleted, its dedupe marker forgotten: {1, deliveries,
# dead id}. Otherwise its last delivery is dated back (XCLAIM IDLE, same owner, same count) so the
# next take reclaims it at once: {1, deliveries, ""}.
SCRIPT = (
    CHECKS
    + FORGET
    + f"""
local group, id = ARGV[1], ARGV[2]
local bad = whole(ARGV[3], '{MAX_DELIVERIES}', 'max_deliveries')
  or denied('XADD', KEYS[2], '*', 'f', 'v')
  or denied('XACK', KEYS[1], group, id)
  or denied('XDEL', KEYS[1], id)
  or denied('XCLAIM', KEYS[1], group, 'c', '0', id)
  or {FORGET_CHECK}
if bad then return bad end
local pending = redis.pcall('XPENDING', KEYS[1], group, id, id, 1)
if type(pending) ~= 'table' or pending.err or not pending[1] then return {{0}} end
local owner, deliveries = pending[1][2], tonumber(pending[1][4])
if deliveries >= tonumber(ARGV[3]) then
  local entry = redis.call('XRANGE', KEYS[1], id, id)
  local job = ''
  local fields = entry[1] and entry[1][2] or {{}}
  for i = 1, #fields, 2 do
    if fields[i] == '{JOB_FIELD}' then job = fields[i + 1] end
  end
  local dead = redis.call('XADD', KEYS[2], '*', '{JOB_FIELD}', job, 'id', id,
    'deliveries', deliveries, 'reason', ARGV[4])
  redis.call('XACK', KEYS[1], group, id)
  forget(id, fields)
  redis.call('XDEL', KEYS[1], id)
  return {{1, deliveries, dead}}
end
local now = redis.call('TIME')
redis.call('XCLAIM', KEYS[1], group, owner, 0, id, 'IDLE', tonumber(now[1]) * 1000 - 1000,
  'RETRYCOUNT', deliveries, 'JUSTID')
return {{1, deliveries, ''}}
"""
)


class QueueFailOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    id: str | None = Field(default=None, description="The job's id")
    pending: bool | None = Field(
        default=None, description="Whether the job was pending (false: nothing was done)"
    )
    deliveries: int | None = Field(default=None, description="Times the job was handed out")
    dead: bool | None = Field(
        default=None, description="Whether it went to the dead-letter queue (else: retried)"
    )
    dead_id: str | None = Field(
        default=None, description='Its id in the dead-letter queue "{<queue>}:dead"'
    )


def queue_fail(ctx: ActionContext, params: Params) -> QueueFailOutput:
    keys = queue_keys(ctx, params.queue)
    check_names(ctx, params)
    reason = encode_value(ctx, params.reason or "", "text", f"{params.queue} reason")
    reply = run_queue_script(
        ctx, SCRIPT, keys, params.group, full_id(params.id), params.max_deliveries, reason
    )
    label = params.queue
    if not int(reply[0]):
        return output(
            QueueFailOutput,
            queue=label,
            id=params.id,
            pending=False,
            dead=False,
            message=f"job {params.id} of {label!r} is not pending (finished, moved, or never "
            "taken): nothing done",
        )
    deliveries, dead_id = int(reply[1]), as_text(reply[2])
    if dead_id:
        message = f"job {params.id} moved to the dead-letter queue of {label!r} after "
        message += f"{deliveries} deliveries"
    else:
        message = f"job {params.id} of {label!r} given back for a retry ({deliveries} deliveries)"
    return output(
        QueueFailOutput,
        queue=label,
        id=params.id,
        pending=True,
        deliveries=deliveries,
        dead=bool(dead_id),
        dead_id=dead_id or None,
        message=message,
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "give-back",
        "name": "Retry the job later, at most 5 times",
        "action": "redis-cache::queue_fail",
        "parameters": {
            "queue": "thumbnails",
            "id": "{{take-job.output.jobs.0.id}}",
            "max_deliveries": 5,
            "reason": "thumbnail service failed",
        },
    }
]
