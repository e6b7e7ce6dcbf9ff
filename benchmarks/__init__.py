"""Benchmarks of the addon against raw redis-py on a private redis-server (run: make bench)."""
