"""The addon's actions, one module each, and the catalogue that lists them."""

from redis_rooms_pkg.actions import (
    delete_key,
    delete_matching,
    exists_key,
    expire_key,
    get_key,
    get_many,
    get_ttl,
    list_keys,
    set_key,
    set_many,
)
from redis_rooms_pkg.actions.base import ActionResponse, ActionSpec, TokensSchema

CATALOGUE: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        set_key.SPEC,
        get_key.SPEC,
        delete_key.SPEC,
        list_keys.SPEC,
        exists_key.SPEC,
        expire_key.SPEC,
        get_ttl.SPEC,
        get_many.SPEC,
        set_many.SPEC,
        delete_matching.SPEC,
    )
}

__all__ = ["CATALOGUE", "ActionResponse", "ActionSpec", "TokensSchema"]
