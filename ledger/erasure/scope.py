"""What a scope covers, in keys. Pure.

Personal fields are sealed under one key per subject and *retention class*
(``Purpose.key_class`` in the catalog), so erasure works class by class. A subject id
belongs to one controller, so the classes are that controller's and a scope is read in
its catalog: two controllers' classes of the same name (``customer``,
``call-recording``) are different keys.

- ``purpose:P`` covers P's class, and with it every purpose sharing that class (their
  data is sealed under the same key, so they are erased together);
- ``category:C`` covers the classes of every purpose that collects C, and with them the
  other categories sealed under those keys;
- ``subject`` covers every class the subject still holds a key for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ledger.contract.base import Scope
from ledger.contract.vocabulary import ScopeKind
from ledger.errors import InvalidRequest
from ledger.policy.catalog import Catalog


class ScopeError(InvalidRequest):
    """A scope that cannot be mapped to keys; the message names the rule and the fix."""


def parse_scope(label: str) -> Scope:
    """A scope from its label: ``subject``, ``purpose:P`` or ``category:C``."""
    kind, _, name = label.partition(":")
    if kind == "subject" and not name:
        return Scope(kind=ScopeKind.subject)
    if kind in ("purpose", "category") and name:
        return Scope.model_validate({"kind": kind, kind: name})
    raise ScopeError(
        f"scope {label!r} is not understood — fix: write subject, purpose:PURPOSE or "
        "category:CATEGORY, e.g. purpose:newsletter"
    )


def classes_in_scope(scope: Scope, catalog: Catalog, held: Collection[str]) -> frozenset[str]:
    """The retention classes a scope covers. ``held``: the classes the subject has keys for
    (a subject scope covers exactly those, whichever catalog declared them)."""
    if scope.kind is ScopeKind.subject:
        return frozenset(held)
    if scope.kind is ScopeKind.purpose:
        purpose = catalog.purpose(scope.purpose or "")
        if purpose is None:
            raise ScopeError(
                f"scope.purpose: {scope.purpose!r} is not a purpose of catalog "
                f"{catalog.controller.id} {catalog.version} — fix: use one of: "
                + ", ".join(p.id for p in catalog.purposes)
            )
        return frozenset({purpose.key_class})
    if scope.category not in {c.id for c in catalog.categories}:
        raise ScopeError(
            f"scope.category: {scope.category!r} is not a category of catalog "
            f"{catalog.controller.id} {catalog.version} — fix: use one of: "
            + ", ".join(c.id for c in catalog.categories)
        )
    return frozenset(p.key_class for p in catalog.purposes if scope.category in p.categories)


def purposes_of(classes: Iterable[str], catalog: Catalog) -> list[str]:
    """The catalog's purposes whose data is sealed under these classes, sorted."""
    wanted = set(classes)
    return sorted(p.id for p in catalog.purposes if p.key_class in wanted)


def sharing_note(classes: Iterable[str], catalog: Catalog) -> list[str]:
    """Sentences for a certificate: which purposes went together because they share a key."""
    notes = []
    for key_class in sorted(set(classes)):
        together = [p.id for p in catalog.purposes if p.key_class == key_class]
        if len(together) > 1:
            notes.append(
                f"purposes {', '.join(together)} share retention class {key_class} (one key "
                "per subject and class), so their data is erased together"
            )
    return notes


def held_classes(scope_label: str, catalog: Catalog, held: Collection[str]) -> frozenset[str]:
    """The classes a legal hold's scope protects. A hold naming a purpose or category the
    catalog in force no longer declares protects every class: when in doubt, keep."""
    try:
        return classes_in_scope(parse_scope(scope_label), catalog, held)
    except (ScopeError, ValueError):  # ValueError: pydantic's, for a malformed scope
        return frozenset(held)
