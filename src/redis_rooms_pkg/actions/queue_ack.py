"""queue_ack: finish jobs: acknowledge them (XACK) and remove them from the queue (XDEL)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, as_text, output
from redis_rooms_pkg.actions.queue_keys import check_names, queue_keys
from redis_rooms_pkg.actions.scripts import CHECKS, run_script

# KEYS[1] the queue's stream; ARGV[1] group; ARGV[2..] job ids (valid ids, checked before).
# Acknowledges each id and deletes the entries that were pending; returns the ids acknowledged.
SCRIPT = (
    CHECKS
    + """
local bad = denied('XACK', KEYS[1], ARGV[1], '0-1') or denied('XDEL', KEYS[1], '0-1')
if bad then return bad end
local acked = {}
for i = 2, #ARGV do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    redis.call('XDEL', KEYS[1], ARGV[i])
    acked[#acked + 1] = ARGV[i]
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
    stream, _ = queue_keys(ctx, params.queue)
    check_names(ctx, params)
    ids = list(dict.fromkeys(params.ids))
    acked = {as_text(i) for i in run_script(ctx, SCRIPT, stream, params.group, *ids)}
    not_pending = [i for i in ids if i not in acked]
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
