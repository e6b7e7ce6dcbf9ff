"""queue_add: append a job (a JSON object) to a queue (XADD on the queue's stream)."""

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
from redis_rooms_pkg.actions.queue_keys import JOB_FIELD, queue_keys


class QueueAddOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    id: str | None = Field(default=None, description="The job's id (its stream entry id)")


def queue_add(ctx: ActionContext, params: Params) -> QueueAddOutput:
    stream, _ = queue_keys(ctx, params.queue)
    data = encode_value(ctx, params.job, "json", params.queue)
    trim = ["MAXLEN", "=", params.max_length] if params.max_length is not None else []
    reply = ctx.client.execute_command("XADD", stream, *trim, "*", JOB_FIELD, data, **RAW)
    job_id = as_text(reply)
    return output(
        QueueAddOutput,
        queue=params.queue,
        id=job_id,
        message=f"added job {job_id} to {params.queue!r}",
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
    }
]
