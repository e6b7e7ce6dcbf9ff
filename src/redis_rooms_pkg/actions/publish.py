"""publish: send a message to a pub/sub channel (under key_prefix, like keys)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    encode_value,
    output,
)


class PublishOutput(ActionOutput):
    channel: str | None = Field(default="", description="Channel the message was sent to")
    receivers: int | None = Field(default=0, description="Number of subscribers that received it")


def publish(ctx: ActionContext, params: Params) -> PublishOutput:
    data = encode_value(ctx, params.message, "text", params.channel)
    receivers = ctx.client.publish(ctx.keys.key(params.channel), data)
    return output(
        PublishOutput,
        channel=params.channel,
        receivers=receivers,
        message=f"published to {params.channel!r} ({receivers} receiver(s))",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "notify",
        "name": "Tell the billing service",
        "action": "redis-cache::publish",
        "parameters": {
            "channel": "orders",
            "message": {"order_id": "{{payload.order_id}}", "status": "paid"},
        },
    }
]
