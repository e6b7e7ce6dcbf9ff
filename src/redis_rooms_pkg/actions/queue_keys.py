"""Where a queue lives: a Redis stream, its dead-letter queue and its dedupe markers next to it
(one hash slot)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from redis.crc import key_slot

from redis_rooms_pkg.actions.base import ActionContext, as_text, is_cluster
from redis_rooms_pkg.actions.scripts import run_script
from redis_rooms_pkg.services.errors import AddonError

DEAD_SUFFIX = ":dead"  # the dead-letter queue of "{<queue>}" is "{<queue>}:dead"
DEDUPE_SUFFIX = ":dedupe"  # the hash dedupe_id -> job id of "{<queue>}" is "{<queue>}:dedupe"
JOB_FIELD = "job"  # the stream field holding a job's JSON text
DEDUPE_FIELD = "dedupe"  # the stream field holding the dedupe_id a job was added with

# Lua shared by the queue scripts, which all take KEYS[1] the stream, KEYS[2] the dead-letter
# stream, KEYS[3] the dedupe hash. forget(id, fields): a job leaves the queue (acknowledged, moved
# to the dead-letter queue, dropped by max_length): drop the marker of the dedupe_id in its
# entry's fields (a flat list), if the marker still names that job. FORGET_CHECK: the ACL checks
# of the commands forget runs (after CHECKS).
FORGET = f"""
local function forget(id, fields)
  for i = 1, #fields, 2 do
    if fields[i] == '{DEDUPE_FIELD}' and redis.call('HGET', KEYS[3], fields[i + 1]) == id then
      redis.call('HDEL', KEYS[3], fields[i + 1])
    end
  end
end
"""
FORGET_CHECK = "denied('HGET', KEYS[3], 'f') or denied('HDEL', KEYS[3], 'f')"


def queue_label(queue: str) -> str:
    """The key name (without key_prefix) of a queue's stream: the name in a hash tag."""
    return "{" + queue + "}"


class QueueKeys(NamedTuple):
    """The stored keys of one queue, in the order its scripts take them as KEYS."""

    stream: str  # the jobs not finished yet: "{<queue>}"
    dead: str  # the dead-letter queue, a stream: "{<queue>}:dead"
    dedupe: str  # dedupe_id -> id of the job in the queue added with it, a hash: "{<queue>}:dedupe"


def queue_keys(ctx: ActionContext, queue: str) -> QueueKeys:
    """The stored keys of a queue's stream, its dead-letter queue and its dedupe markers.

    The braces make Redis Cluster hash only the queue's name, so the three keys share a hash
    slot and one script may touch them all. Only a key_prefix holding an empty hash tag ("{}")
    defeats that: then a cluster refuses the layout (400) rather than a script failing half-way.
    """
    stream = ctx.keys.key(queue_label(queue))
    keys = QueueKeys(stream, stream + DEAD_SUFFIX, stream + DEDUPE_SUFFIX)
    if is_cluster(ctx.client) and len({key_slot(key.encode()) for key in keys}) > 1:
        raise AddonError(
            400,
            f"invalid input: queue {queue!r}, its dead-letter queue and its dedupe markers would "
            'be in different hash slots (the key_prefix holds an empty hash tag "{}"): remove it '
            "from key_prefix",
        )
    return keys


def run_queue_script(ctx: ActionContext, source: str, keys: QueueKeys, *args: Any) -> Any:
    """Run a queue script with the queue's three keys as KEYS[1], KEYS[2], KEYS[3]."""
    return run_script(ctx, source, keys.stream, *args, also=(keys.dead, keys.dedupe))


def check_names(ctx: ActionContext, params: Any) -> None:
    """413 when the group or consumer name is over max_name_bytes (as a key name would be)."""
    fields = vars(params)  # not getattr(params, what, None): a missing field costs ~2 us there
    for what in ("group", "consumer"):
        name = fields.get(what)
        if isinstance(name, str):
            ctx.keys.check_name(name, what)


def full_id(job_id: str) -> str:
    """A job id with its sequence number: "5" is the entry "5-0" (as XACK, XDEL and XCLAIM read
    it), while XPENDING and XRANGE would read "5" as every entry of millisecond 5."""
    return job_id if "-" in job_id else job_id + "-0"


def job_of(fields: Any) -> dict[str, Any]:
    """A stream entry's job: the object in its "job" field (alone, or next to the "dedupe"
    field), else its fields as an object (an entry another program added)."""
    if isinstance(fields, dict):
        pairs = list(fields.items())
    else:
        pairs = list(zip(fields[::2], fields[1::2], strict=True))
    values = {as_text(name): as_text(value) for name, value in pairs}
    text = values.get(JOB_FIELD)
    if text is not None and (len(values) == 1 or (len(values) == 2 and DEDUPE_FIELD in values)):
        try:
            job = json.loads(text)
        except ValueError:
            job = None
        if isinstance(job, dict):
            return job
    return values
