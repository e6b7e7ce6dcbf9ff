"""Fields every Rooms AI addon entry has, whatever the addon."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class BaseAddonConfig(BaseModel):
    """The engine's addon entry: identity, switch, options and secret names.

    Fields the engine owns and the addon does not read (``version``, ``tools``, ``metadata``...)
    are kept (``model_extra``), as the platform's other addons allow them; the addon's own
    options are checked by name (see ``CustomAddonConfig``).
    """

    # hide_input_in_errors: a ValidationError never repeats the entry (secrets may be values)
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, hide_input_in_errors=True)

    id: str = Field(min_length=1, description="Unique identifier for the addon instance")
    type: str = Field(min_length=1, description='Type of the addon ("redis")')
    name: str = Field(min_length=1, description="Display name of the addon")
    description: str = Field(default="", description="Description of the addon")
    enabled: bool = Field(default=True, description="Whether the addon is enabled")
    config: dict[str, Any] = Field(
        default_factory=dict, description="Addon-specific options (may also be top-level fields)"
    )
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Secret key -> name of the environment variable that holds its value (or "
        "the value itself, as the engine may pass it); never shown",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _secrets_hidden(cls, data: Any, handler: Any) -> Any:
        """The entry's secrets are wrapped (``SecretStr``) before any other check sees the
        entry, so that no validation error can carry them (they may be values)."""
        if isinstance(data, dict) and isinstance(data.get("secrets"), dict):
            data = {
                **data,
                "secrets": {
                    key: text
                    if isinstance(text, SecretStr) or not isinstance(text, str)
                    else SecretStr(text)
                    for key, text in data["secrets"].items()
                },
            }
        return handler(data)
