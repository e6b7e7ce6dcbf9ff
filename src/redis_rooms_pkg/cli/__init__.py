"""The `redis-rooms` command line (typer + rich; imported only by the console script)."""

from redis_rooms_pkg.cli.app import app, main

__all__ = ["app", "main"]
