"""Redis storage addon for the Rooms AI (Nexroo) workflow engine."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use, not at import."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("redis-rooms-pkg")
    except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
        found = "0.0.0"
    globals()["__version__"] = found
    return found
