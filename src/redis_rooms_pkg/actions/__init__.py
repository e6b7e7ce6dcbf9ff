"""The addon's actions, one module each, and the catalogue that lists them."""

from redis_rooms_pkg.actions import (
    acquire_lock,
    delete_key,
    delete_matching,
    exists_key,
    expire_key,
    extend_lock,
    get_key,
    get_many,
    get_ttl,
    hash_delete,
    hash_get,
    hash_set,
    history_append,
    history_clear,
    history_get,
    increment,
    list_keys,
    list_length,
    list_pop,
    list_push,
    list_range,
    publish,
    rate_limit,
    release_lock,
    server_info,
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
        # workflow building blocks
        increment.SPEC,
        rate_limit.SPEC,
        list_push.SPEC,
        list_pop.SPEC,
        list_range.SPEC,
        list_length.SPEC,
        hash_set.SPEC,
        hash_get.SPEC,
        hash_delete.SPEC,
        publish.SPEC,
        acquire_lock.SPEC,
        release_lock.SPEC,
        extend_lock.SPEC,
        history_append.SPEC,
        history_get.SPEC,
        history_clear.SPEC,
        server_info.SPEC,
    )
}

__all__ = ["CATALOGUE", "ActionResponse", "ActionSpec", "TokensSchema"]
