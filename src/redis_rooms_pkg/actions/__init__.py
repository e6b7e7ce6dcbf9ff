"""The addon's actions, one module each, and the catalogue that lists them."""

from redis_rooms_pkg.actions import delete_key, get_key, list_keys, set_key
from redis_rooms_pkg.actions.base import ActionResponse, ActionSpec, TokensSchema

CATALOGUE: dict[str, ActionSpec] = {
    spec.name: spec for spec in (set_key.SPEC, get_key.SPEC, delete_key.SPEC, list_keys.SPEC)
}

__all__ = ["CATALOGUE", "ActionResponse", "ActionSpec", "TokensSchema"]
