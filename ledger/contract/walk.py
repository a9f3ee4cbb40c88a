"""Find and replace the personal fields of an event, by path (``values[0].value``).

The path is part of each sealed value's associated data, so sealing and opening must
walk events the same way; this module is that one way.

Which fields to visit is worked out once per model class, from its annotations
(``_visited``): a personal field, or a field whose type can hold a model (directly or in
a list) that has personal fields further down. Every other field (ids, instants, slugs,
lists of strings) is skipped without being read, so an event costs a few attribute
reads, not a walk of every field and an introspection of its type.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from ledger.contract.secret import Secret, is_personal

M = TypeVar("M", bound=BaseModel)

#: classes under analysis: a model that refers to itself is assumed to hold personal data
_ANALYSING: set[type[BaseModel]] = set()


@cache
def _visited(model: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """(field name, whether it is personal) for each field of ``model`` that is personal
    or can hold personal fields further down, in declaration order."""
    _ANALYSING.add(model)
    try:
        return tuple(
            (name, is_personal(info))
            for name, info in model.model_fields.items()
            if is_personal(info) or _may_hold_personal(info.annotation)
        )
    finally:
        _ANALYSING.discard(model)


def _may_hold_personal(annotation: Any) -> bool:
    """Whether a value of this type can be, or hold in a list, a model with personal fields.
    A type it cannot read (``Any``, a bare ``list``, a type variable) is walked."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _may_hold_personal(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_may_hold_personal(a) for a in get_args(annotation))
    if origin is list or annotation is list:  # the walk never looks inside dicts or tuples
        args = get_args(annotation)
        return not args or _may_hold_personal(args[0])
    if origin is not None:  # dict, tuple, Literal, type[...]: never walked into
        return False
    if annotation is Any or annotation is object:  # may hold anything: walked
        return True
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return annotation in _ANALYSING or bool(_visited(annotation))
        return False  # str, int, datetime, an enum, Secret outside a personal field
    return True  # Any, a TypeVar, a forward reference: decided when walked


def personal_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Secret]]:
    for name, personal in _visited(type(model)):
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if personal and isinstance(value, Secret):
            yield path, value
        else:
            yield from _walk_value(value, path)


def _walk_value(value: Any, path: str) -> Iterator[tuple[str, Secret]]:
    if isinstance(value, BaseModel):
        yield from personal_fields(value, path + ".")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_value(item, f"{path}[{i}]")


def replace_personal(model: M, replace: Callable[[str, Secret], Secret], prefix: str = "") -> M:
    """A copy of ``model`` with every personal field replaced by ``replace(path, secret)``."""
    updates: dict[str, Any] = {}
    for name, personal in _visited(type(model)):
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if personal and isinstance(value, Secret):
            updates[name] = replace(path, value)
        elif isinstance(value, BaseModel | list):
            updates[name] = _replace_value(value, replace, path)
    return model.model_copy(update=updates) if updates else model


def _replace_value(value: Any, replace: Callable[[str, Secret], Secret], path: str) -> Any:
    if isinstance(value, BaseModel):
        return replace_personal(value, replace, path + ".")
    if isinstance(value, list):
        return [_replace_value(item, replace, f"{path}[{i}]") for i, item in enumerate(value)]
    return value
