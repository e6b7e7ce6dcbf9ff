"""server_info: what a person checks first about the server (INFO), and a raw section."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from redis import exceptions as rx

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
    per_primary,
)
from redis_rooms_pkg.services.errors import AddonError


class ServerInfoOutput(ActionOutput):
    version: str | None = Field(default="", description="Redis version (redis_version)")
    mode: str | None = Field(
        default="", description='"standalone", "sentinel" or "cluster" (redis_mode)'
    )
    role: str | None = Field(default="", description='"master" or "slave" (a replica)')
    used_memory: int | None = Field(default=0, description="Memory used by the data set, in bytes")
    used_memory_human: str | None = Field(default="", description="used_memory, human-readable")
    connected_clients: int | None = Field(default=0, description="Client connections open now")
    uptime_s: int | None = Field(default=0, description="Seconds since the server started")
    keyspace: dict[str, dict[str, int]] | None = Field(
        default_factory=dict,
        description='Per database: {"keys": n, "expires": n, "avg_ttl": ms} (whole database)',
    )
    info: dict[str, Any] | None = Field(
        default=None, description="The requested INFO section, as the server gave it"
    )


def _info(ctx: ActionContext, section: str | None = None) -> dict[str, dict[str, Any]]:
    """INFO (or one section) of the server, or of every primary of a cluster, by node name."""
    try:
        return per_primary(
            ctx,
            lambda client, **target: (
                client.info(section, **target) if section else client.info(**target)
            ),
        )
    except rx.ResponseError as exc:
        if type(exc) is not rx.ResponseError:  # permission and other specific errors: as usual
            raise
        raise AddonError(
            501,
            "this Redis does not answer INFO, so server_info cannot work here "
            "(the embedded in-process Redis has no INFO: use a Redis server)",
        ) from exc


def _human(size: int) -> str:
    """Bytes the way Redis writes used_memory_human ("1.94M")."""
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if value < 1024:
            return f"{size}B" if unit == "B" else f"{value:.2f}{unit}"
        value /= 1024
    return f"{value:.2f}T"


def server_info(ctx: ActionContext, params: Params) -> ServerInfoOutput:
    # On a cluster the figures cover every primary: counts and memory summed, uptime the least.
    infos = list(_info(ctx).values())
    first = infos[0]
    keyspace: dict[str, dict[str, int]] = {}
    for info in infos:
        for name, value in info.items():
            if name.startswith("db") and name[2:].isdigit() and isinstance(value, dict):
                totals = keyspace.setdefault(name, {})
                for stat, count in value.items():
                    add = max if stat == "avg_ttl" else sum
                    totals[stat] = add((totals.get(stat, 0), int(count)))
    used_memory = sum(int(info.get("used_memory", 0)) for info in infos)
    version = str(first.get("redis_version", ""))
    role = str(first.get("role", ""))
    raw = None
    if params.section:
        sections = _info(ctx, params.section)
        raw = sections[""] if list(sections) == [""] else sections
    return output(
        ServerInfoOutput,
        version=version,
        mode=str(first.get("redis_mode", "")),
        role=role,
        used_memory=used_memory,
        used_memory_human=(
            str(first.get("used_memory_human", "")) if len(infos) == 1 else _human(used_memory)
        ),
        connected_clients=sum(int(info.get("connected_clients", 0)) for info in infos),
        uptime_s=min(int(info.get("uptime_in_seconds", 0)) for info in infos),
        keyspace=keyspace,
        info=raw,
        message=f"Redis {version} ({role}), {len(keyspace)} database(s) with keys"
        + (f" over {len(infos)} primaries" if len(infos) > 1 else ""),
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "check-redis",
        "name": "Check the server",
        "action": "redis-cache::server_info",
        "parameters": {"section": "memory"},
    }
]
