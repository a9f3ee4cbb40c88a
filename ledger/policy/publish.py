"""Policy versions as events: a catalog becomes a PolicyPublished event and back."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import ValidationError

from ledger.contract.canonical import catalog_text
from ledger.contract.events import PolicyPublished
from ledger.contract.rejection import Rejection
from ledger.policy.catalog import Catalog


def publication(catalog: Catalog, occurred_at: datetime | None = None) -> PolicyPublished:
    text = catalog_text(catalog)
    return PolicyPublished(
        controller=catalog.controller.id,
        occurred_at=occurred_at or datetime.now(UTC),
        version=catalog.version,
        effective_from=catalog.effective_from,
        catalog_sha256=hashlib.sha256(text.encode()).hexdigest(),
        catalog_json=text,
    )


def published_catalog(event: PolicyPublished) -> Catalog:
    return Catalog.model_validate_json(event.catalog_json)


def check_publication(event: PolicyPublished) -> list[Rejection]:
    digest = hashlib.sha256(event.catalog_json.encode()).hexdigest()
    if digest != event.catalog_sha256:
        return [
            Rejection(
                "catalog_sha256",
                "does not match catalog_json",
                "publish with `pdl catalog publish FILE`, which computes it",
            )
        ]
    try:
        catalog = published_catalog(event)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return [
            Rejection(
                "catalog_json",
                f"not a valid catalog ({where}: {first['msg']})",
                "validate it with `pdl catalog validate FILE`",
            )
        ]
    mismatches = [
        Rejection(name, f"differs from the catalog's own {name}", "publish the catalog as is")
        for name, ours, theirs in (
            ("controller", event.controller, catalog.controller.id),
            ("version", event.version, catalog.version),
            ("effective_from", event.effective_from, catalog.effective_from),
        )
        if ours != theirs
    ]
    return mismatches
