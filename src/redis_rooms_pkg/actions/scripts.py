"""Running the actions' Lua scripts: atomic on the server, one key per call (cluster-safe)."""

from __future__ import annotations

from typing import Any

from redis_rooms_pkg.actions.base import ActionContext


def run_script(ctx: ActionContext, source: str, key: str, *args: Any) -> Any:
    """Run ``source`` with the stored ``key`` as KEYS[1] (EVALSHA; the script is loaded if missing).

    Every script of the addon touches exactly the one key it declares, so a call never spans
    hash slots in cluster mode.
    """
    return ctx.client.register_script(source)(keys=[key], args=list(args))
