"""queue_ack: finish jobs: acknowledge them (XACK) and remove them from the queue (XDEL), with
their dedupe markers."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, as_text, output
from redis_rooms_pkg.actions.queue_keys import (
    FORGET,
    FORGET_CHECK,
    check_names,
    full_id,
    queue_keys,
    run_queue_script,
)
from redis_rooms_pkg.actions.scripts import CHECKS

# The queue's keys (see queue_keys); ARGV[1] group; ARGV[2..] job ids (whole "<ms>-<seq>" ids,
# checked before). Acknowledges each id and deletes the entries that were pending, forgetting
# their dedupe markers (read only when the queue has any); returns the ids acknowledged.
SCRIPT = (
    CHECKS
    + FORGET
    + f"""
local bad = denied('XACK', KEYS[1], ARGV[1], '0-1') or denied('XDEL', KEYS[1], '0-1')
  or denied('HLEN', KEYS[3]) or denied('XRANGE', KEYS[1], '-', '+') or {FORGET_CHECK}
if bad then return bad end
local marked = redis.call('HLEN', KEYS[3]) > 0
local acked = {{}}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then
    if marked then
      local entry = redis.call('XRANGE', KEYS[1], id, id)
      if entry[1] then forget(id, entry[1][2]) end
    end
    redis.call('XDEL', KEYS[1], id)
    acked[#acked + 1] = id
  end
end
return acked
"""
)


class QueueAckOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    acked: int | None = Field(
        default=None, description="Number of jobs this call acknowledged and removed"
    )
    not_pending: list[str] | None = Field(
        default=None,
        description="Ids that were not pending (already finished, moved, or never taken)",
    )


def queue_ack(ctx: ActionContext, params: Params) -> QueueAckOutput:
    keys = queue_keys(ctx, params.queue)
    check_names(ctx, params)
    ids = list(dict.fromkeys(params.ids))
    whole = {job_id: full_id(job_id) for job_id in ids}
    sent = list(dict.fromkeys(whole.values()))
    acked = {as_text(i) for i in run_queue_script(ctx, SCRIPT, keys, params.group, *sent)}
    not_pending = [i for i in ids if whole[i] not in acked]
    more = f" ({len(not_pending)} not pending)" if not_pending else ""
    return output(
        QueueAckOutput,
        queue=params.queue,
        acked=len(acked),
        not_pending=not_pending,
        message=f"finished {len(acked)} job(s) of {params.queue!r}{more}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "finish-job",
        "name": "The job is done",
        "action": "redis-cache::queue_ack",
        "parameters": {"queue": "thumbnails", "ids": ["{{take-job.output.jobs.0.id}}"]},
    }
]
