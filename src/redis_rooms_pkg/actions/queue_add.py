"""queue_add: append a job (a JSON object) to a queue (XADD on the queue's stream), at most one
job per dedupe_id while that job is in the queue."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    encode_value,
    output,
)
from redis_rooms_pkg.actions.queue_keys import (
    DEDUPE_FIELD,
    FORGET,
    FORGET_CHECK,
    JOB_FIELD,
    queue_keys,
    run_queue_script,
)
from redis_rooms_pkg.actions.scripts import CHECKS, CHUNK, COUNT_MAX

# The queue's keys (see queue_keys); ARGV[1] the job's JSON text, ARGV[2] dedupe id or "",
# ARGV[3] max length or "". With a dedupe id whose marker names a job still in the stream (new or
# pending), nothing is written: {0, that job's id}. A marker naming a job no longer there (deleted
# by another program, or the queue deleted) is not obeyed. With a max length, the markers of the
# oldest jobs the add will drop are forgotten first (read in chunks; skipped when the queue has
# no marker). Then XADD (exact trim) and the new marker: {1, id}.
SCRIPT = (
    CHECKS
    + FORGET
    + f"""
local dedupe, cap = ARGV[2], ARGV[3]
local bad = whole(cap, '{COUNT_MAX}', 'max_length')
  or denied('XADD', KEYS[1], 'MAXLEN', '=', '1', '*', 'f', 'v')
  or (dedupe ~= '' and (denied('HGET', KEYS[3], dedupe) or denied('HSET', KEYS[3], dedupe, 'v')
    or denied('XRANGE', KEYS[1], '-', '+')))
  or (cap ~= '' and (denied('XLEN', KEYS[1]) or denied('HLEN', KEYS[3])
    or denied('XRANGE', KEYS[1], '-', '+') or {FORGET_CHECK}))
if bad then return bad end
if dedupe ~= '' then
  local held = redis.call('HGET', KEYS[3], dedupe)
  if held then
    local found = redis.pcall('XRANGE', KEYS[1], held, held)
    if type(found) == 'table' and not found.err and found[1] then return {{0, held}} end
  end
end
local fields = {{'{JOB_FIELD}', ARGV[1]}}
if dedupe ~= '' then
  fields[3], fields[4] = '{DEDUPE_FIELD}', dedupe
end
local id
if cap == '' then
  id = redis.call('XADD', KEYS[1], '*', unpack(fields))
else
  -- Only when the stream is longer than the cap less one: then the cap is below the length, a
  -- number Lua holds exactly (the cap text itself may exceed what a Lua number holds exactly).
  local over = redis.call('XLEN', KEYS[1]) + 1
  if over > tonumber(cap) and redis.call('HLEN', KEYS[3]) > 0 then
    over = over - tonumber(cap)
    local start = '-'
    while over > 0 do
      local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', math.min(over, {CHUNK}))
      if not entries[1] then break end
      for _, entry in ipairs(entries) do forget(entry[1], entry[2]) end
      over = over - #entries
      start = '(' .. entries[#entries][1]
    end
  end
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '=', cap, '*', unpack(fields))
end
if dedupe ~= '' then redis.call('HSET', KEYS[3], dedupe, id) end
return {{1, id}}
"""
)


class QueueAddOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    id: str | None = Field(
        default=None,
        description="The job's id (its stream entry id): the new job's, or when not added the "
        "id of the job already queued with the same dedupe_id",
    )
    added: bool | None = Field(
        default=None,
        description="Whether the job was added (false: a job with its dedupe_id is in the queue)",
    )
    duplicate_of: str | None = Field(
        default=None,
        description="When not added: the id of the job in the queue with the same dedupe_id",
    )


def queue_add(ctx: ActionContext, params: Params) -> QueueAddOutput:
    keys = queue_keys(ctx, params.queue)
    dedupe_id = params.dedupe_id
    if dedupe_id is not None:
        ctx.keys.check_name(dedupe_id, "dedupe_id")
    data = encode_value(ctx, params.job, "json", params.queue)
    label = params.queue
    if dedupe_id is None and params.max_length is None:  # one XADD: no marker to read or drop
        job_id = as_text(
            ctx.client.execute_command("XADD", keys.stream, "*", JOB_FIELD, data, **RAW)
        )
        return output(
            QueueAddOutput,
            queue=label,
            id=job_id,
            added=True,
            message=f"added job {job_id} to {label!r}",
        )
    added, job_id = run_queue_script(
        ctx, SCRIPT, keys, data, dedupe_id or "", params.max_length or ""
    )
    job_id = as_text(job_id)
    if not int(added):
        return output(
            QueueAddOutput,
            queue=label,
            id=job_id,
            added=False,
            duplicate_of=job_id,
            message=f"not added: job {job_id} with dedupe_id {dedupe_id!r} is in {label!r} "
            "(queued or running)",
        )
    return output(
        QueueAddOutput,
        queue=label,
        id=job_id,
        added=True,
        message=f"added job {job_id} to {label!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "queue-job",
        "name": "Queue a thumbnail job",
        "action": "redis-cache::queue_add",
        "parameters": {
            "queue": "thumbnails",
            "job": {"image": "{{payload.image}}", "size": 128},
        },
    },
    {
        "id": "queue-once",
        "name": "Queue it unless the same image is already queued or being worked on",
        "action": "redis-cache::queue_add",
        "parameters": {
            "queue": "thumbnails",
            "job": {"image": "{{payload.image}}", "size": 128},
            "dedupe_id": "{{payload.image}}",
        },
    },
]
