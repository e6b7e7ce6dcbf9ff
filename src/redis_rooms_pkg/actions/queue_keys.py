"""Where a queue lives: a Redis stream, and its dead-letter queue next to it (one hash slot)."""

from __future__ import annotations

import json
from typing import Any

from redis.crc import key_slot

from redis_rooms_pkg.actions.base import ActionContext, as_text, is_cluster
from redis_rooms_pkg.services.errors import AddonError

DEAD_SUFFIX = ":dead"  # the dead-letter queue of "{<queue>}" is "{<queue>}:dead"
JOB_FIELD = "job"  # the stream field holding a job's JSON text


def queue_label(queue: str) -> str:
    """The key name (without key_prefix) of a queue's stream: the name in a hash tag."""
    return "{" + queue + "}"


def queue_keys(ctx: ActionContext, queue: str) -> tuple[str, str]:
    """The stored keys of a queue's stream and of its dead-letter queue.

    The braces make Redis Cluster hash only the queue's name, so both keys share a hash slot and
    one script may touch both. Only a key_prefix holding an empty hash tag ("{}") defeats that:
    then a cluster refuses the layout (400) rather than a script failing half-way.
    """
    stream = ctx.keys.key(queue_label(queue))
    dead = stream + DEAD_SUFFIX
    if is_cluster(ctx.client) and key_slot(stream.encode()) != key_slot(dead.encode()):
        raise AddonError(
            400,
            f"invalid input: queue {queue!r} and its dead-letter queue would be in different "
            'hash slots (the key_prefix holds an empty hash tag "{}"): remove it from key_prefix',
        )
    return stream, dead


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
    """A stream entry's job: the object in its "job" field, else its fields as an object (an
    entry another program added)."""
    if isinstance(fields, dict):
        pairs = list(fields.items())
    else:
        pairs = list(zip(fields[::2], fields[1::2], strict=True))
    values = {as_text(name): as_text(value) for name, value in pairs}
    text = values.get(JOB_FIELD)
    if text is not None and len(values) == 1:
        try:
            job = json.loads(text)
        except ValueError:
            job = None
        if isinstance(job, dict):
            return job
    return values
