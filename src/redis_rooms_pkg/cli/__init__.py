"""The `redis-rooms` command line (typer + rich, from the ``cli`` extra).

Importing this package loads neither: :func:`main` (the console script) and the ``app``
attribute import the typer app when first used, so the command can say how to install the
extra instead of failing with a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

CLI_MISSING = "redis-rooms needs the cli extra (typer, rich): pip install 'redis-rooms-pkg[cli]'"
CLI_LIBRARIES = frozenset({"typer", "rich", "click"})  # click comes with typer

__all__ = ["CLI_MISSING", "app", "main"]


def _typer_app() -> Any:
    from redis_rooms_pkg.cli.app import app as typer_app

    # importing the submodule bound the package's ``app`` to it: bind the typer app instead
    globals()["app"] = typer_app
    return typer_app


def _missing_cli_library(exc: ImportError) -> bool:
    return (exc.name or "").partition(".")[0] in CLI_LIBRARIES


def main() -> None:
    """Entry point of the `redis-rooms` console script."""
    try:
        typer_app = _typer_app()
    except ImportError as exc:
        if not _missing_cli_library(exc):
            raise
        print(CLI_MISSING, file=sys.stderr)
        raise SystemExit(1) from None
    typer_app()


def __getattr__(name: str) -> Any:
    if name == "app":
        return _typer_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
