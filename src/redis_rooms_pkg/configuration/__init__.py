"""Configuration models the engine validates an addon entry with."""

from redis_rooms_pkg.configuration.addonconfig import CustomAddonConfig
from redis_rooms_pkg.configuration.baseconfig import BaseAddonConfig

__all__ = ["BaseAddonConfig", "CustomAddonConfig"]
