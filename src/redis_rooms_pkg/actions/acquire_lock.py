"""acquire_lock: take a named lock for ttl_ms (SET NX PX), waiting up to wait_s for it."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    NO_BOOL,
    RAW,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Milliseconds,
)
from redis_rooms_pkg.services.errors import WriteOutcomeUnknownError

MAX_WAIT = 60.0  # s, longest wait_s
POLL_FIRST = 0.01  # s, first pause between tries while waiting...
POLL_CAP = 0.2  # s, ...doubling up to this


class AcquireLockInput(ActionInput):
    name: Key
    ttl_ms: Milliseconds = Field(
        description="Lock lifetime in milliseconds: it frees itself if the holder never releases"
    )
    wait_s: Annotated[float, NO_BOOL] = Field(
        default=0,
        ge=0,
        le=MAX_WAIT,
        allow_inf_nan=False,
        description="Seconds to keep trying while another holder has it (0: try once)",
    )


class AcquireLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    acquired: bool | None = Field(default=False, description="Whether this call got the lock")
    token: str | None = Field(
        default=None, description="Proof of ownership for release_lock and extend_lock"
    )


def acquire_lock(ctx: ActionContext, params: AcquireLockInput) -> AcquireLockOutput:
    """Exactly once: every try sends the same token, so after a lost reply the key itself says
    whether this call holds the lock (a late or repeated ``SET NX`` of the same token changes
    nothing)."""
    key = ctx.keys.key(params.name)
    token = secrets.token_hex(16)
    deadline = time.monotonic() + params.wait_s
    pause = POLL_FIRST
    lost: WriteOutcomeUnknownError | None = None
    while True:
        try:
            taken = ctx.client.set(key, token, nx=True, px=params.ttl_ms)
        except WriteOutcomeUnknownError as exc:
            lost, taken = exc, False
        if taken or (lost is not None and _holds(ctx, key, token, lost)):
            note = " (confirmed by its token after a lost reply)" if lost and not taken else ""
            return AcquireLockOutput(
                name=params.name,
                acquired=True,
                token=token,
                message=f"acquired {params.name!r} for {params.ttl_ms}ms{note}",
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if lost is not None and lost.timed_out:
                raise lost  # the SET may still run late: whether it did is unknown (504)
            return AcquireLockOutput(
                name=params.name, acquired=False, message=f"{params.name!r} is held by another"
            )
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, POLL_CAP)


def _holds(ctx: ActionContext, key: str, token: str, lost: WriteOutcomeUnknownError) -> bool:
    """Whether the lock's key holds ``token``; when even that cannot be read, the lost reply's
    own error (504 "may have been applied"), never a 503 that would say nothing was applied."""
    try:
        held = ctx.client.execute_command("GET", key, **RAW)
    except Exception:
        raise lost from None
    return held == token.encode()


SPEC = ActionSpec(
    name="acquire_lock",
    summary="Take a named lock for ttl_ms milliseconds, waiting up to wait_s; returns its token.",
    input=AcquireLockInput,
    output=AcquireLockOutput,
    run=acquire_lock,
    read_only=False,
)
