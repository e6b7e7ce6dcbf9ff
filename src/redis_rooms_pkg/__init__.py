"""Redis storage addon for the Rooms AI (Nexroo) workflow engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("redis-rooms-pkg")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
