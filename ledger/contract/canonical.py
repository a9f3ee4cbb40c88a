"""Canonical JSON: one text per value, by purpose.

Each purpose has its own function because each has its own reason to keep its bytes
and its own rules, fixed by what was already written with them: changing any rule
below changes bytes that were signed, hashed or stored, so it is a format change, not
a refactoring. All sort (keys, or a projection state's maps), so that equal values give
equal text whatever the order they were built in.
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_COMPACT = (",", ":")


def certificate_text(doc: Mapping[str, Any]) -> str:
    """An erasure certificate's text: sorted keys, no spaces, ASCII only.

    Stable because it is what is signed (Ed25519 over the text without ``signature``)
    and what the register's hash chain hashes; a verifier re-derives it from the parsed
    document and any other byte breaks a signature or a link. ASCII so that the signed
    bytes do not depend on a Unicode normalisation or an encoding."""
    return json.dumps(doc, sort_keys=True, separators=_COMPACT, ensure_ascii=True)


def projection_state_text(state: BaseModel, *, exclude_defaults: bool = False) -> str:
    """A projection state as the store keeps it: pydantic's JSON of the state (fields in
    declaration order, no spaces, UTF-8), with the maps of its top level in key order;
    with ``exclude_defaults``, without the fields that hold their defaults (shorter text,
    parsed faster, still one text per state).

    Stable because a rebuild is proven by comparing stores byte for byte (``pdl dump``
    before and after): equal states must give equal text. The folds fill their maps in
    the order events come, which differs between a live run and a rebuild, hence the
    sorting; maps deeper in a state would not be sorted, so state models keep theirs at
    the top level (tests/projections/test_state_text.py checks every projection's).
    Pydantic's serialiser, not ``json.dumps`` of a dump: a batch writes every state it
    touched, so this runs about once per event."""
    fields = state.__dict__
    unsorted = {
        name: dict(sorted(fields[name].items()))
        for name in _maps_of(type(state))
        if len(fields[name]) > 1 and list(fields[name]) != sorted(fields[name])
    }
    if not unsorted:
        return state.model_dump_json(exclude_defaults=exclude_defaults)
    # a bare copy with the sorted maps, not ``model_copy``: this runs once per event
    ordered = object.__new__(type(state))
    object.__setattr__(ordered, "__dict__", {**fields, **unsorted})
    for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        object.__setattr__(ordered, slot, getattr(state, slot))
    return ordered.model_dump_json(exclude_defaults=exclude_defaults)


@functools.cache
def _maps_of(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a state model that hold maps."""
    return tuple(
        name
        for name, field in model.model_fields.items()
        if typing.get_origin(field.annotation) is dict
    )


def projection_version_text(name: str, revision: int, state_schema: Mapping[str, Any]) -> str:
    """What a projection's version digests: its name, revision and state JSON schema,
    with sorted keys and json's default separators.

    Stable because stores record the version they were built with and refuse to run
    under another: other bytes would demand a rebuild of every store."""
    return json.dumps([name, revision, state_schema], sort_keys=True)


def catalog_text(catalog: BaseModel) -> str:
    """A policy catalog as ``PolicyPublished`` carries it: sorted keys, no spaces, UTF-8.

    Stable because the event carries its SHA-256 too, and equal catalogs must give
    equal digests for a re-publication to be recognised as the same version."""
    return json.dumps(
        catalog.model_dump(mode="json"), sort_keys=True, separators=_COMPACT, ensure_ascii=False
    )


def report_text(report: Mapping[str, Any]) -> str:
    """A report as JSON: sorted keys, no spaces, UTF-8 (names stay readable), one final
    newline.

    Stable because the same report, asked again at the same T and K, must give the same
    bytes: that is how an authority checks a report it was given."""
    return json.dumps(report, sort_keys=True, separators=_COMPACT, ensure_ascii=False) + "\n"
