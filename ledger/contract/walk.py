"""Find and replace the personal fields of an event, by path (``values[0].value``).

The path is part of each sealed value's associated data, so sealing and opening must
walk events the same way; this module is that one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from ledger.contract.secret import Secret, is_personal

M = TypeVar("M", bound=BaseModel)


@cache
def _personal_names(model: type[BaseModel]) -> frozenset[str]:
    """Which fields of a model class are personal: computed once per class."""
    return frozenset(n for n, info in model.model_fields.items() if is_personal(info))


def personal_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Secret]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if name in _personal_names(type(model)) and isinstance(value, Secret):
            yield path, value
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
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if name in _personal_names(type(model)) and isinstance(value, Secret):
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
