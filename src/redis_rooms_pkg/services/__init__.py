"""Shared services of the addon: clients, credentials, error mapping."""
