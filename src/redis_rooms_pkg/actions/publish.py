"""publish: send a message to a pub/sub channel (under key_prefix, like keys)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    NAME_HELP,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Name,
    encode_value,
)


class PublishInput(ActionInput):
    channel: Name = Field(
        description=f"Channel name ({NAME_HELP}); key_prefix is put before it, as for keys"
    )
    message: Any = Field(description="Message; objects, arrays and numbers are sent as JSON text")


class PublishOutput(ActionOutput):
    channel: str | None = Field(default="", description="Channel the message was sent to")
    receivers: int | None = Field(default=0, description="Number of subscribers that received it")


def publish(ctx: ActionContext, params: PublishInput) -> PublishOutput:
    data = encode_value(ctx, params.message, "text", params.channel)
    receivers = ctx.client.publish(ctx.keys.key(params.channel), data)
    return PublishOutput(
        channel=params.channel,
        receivers=receivers,
        message=f"published to {params.channel!r} ({receivers} receiver(s))",
    )


SPEC = ActionSpec(
    name="publish",
    summary="Publish a message on a channel; receivers counts the subscribers that got it.",
    input=PublishInput,
    output=PublishOutput,
    run=publish,
    read_only=False,
)
