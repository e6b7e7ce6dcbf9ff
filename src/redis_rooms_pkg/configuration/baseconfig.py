"""Fields every Rooms AI addon entry has, whatever the addon."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class BaseAddonConfig(BaseModel):
    """The engine's addon entry: identity, switch, options and secret names."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, description="Unique identifier for the addon instance")
    type: str = Field(min_length=1, description='Type of the addon ("redis")')
    name: str = Field(min_length=1, description="Display name of the addon")
    description: str = Field(default="", description="Description of the addon")
    enabled: bool = Field(default=True, description="Whether the addon is enabled")
    config: dict[str, Any] = Field(
        default_factory=dict, description="Addon-specific options (may also be top-level fields)"
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secret key -> name of the environment variable that holds its value",
    )
