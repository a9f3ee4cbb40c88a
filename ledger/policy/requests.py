"""The rules of a request from a person: when it is due, and whether it may be answered.
Pure: no clock, no I/O.

- Due one calendar month after receipt, three once extended (Art. 12(3),
  ``ledger.policy.deadlines``), read in the controller's time zone.
- A catalog whose notice makes an identity check a condition of exercising rights (a
  declaration of kind ``identity_check``, quoted from the notice — bpost: "nous vous
  demandons de joindre vos coordonnées complètes et un moyen de vérifier votre
  identité") lets no request be answered before the identity is verified.
- An answer to an erasure, rectification or restriction is told to every recipient the
  data was disclosed to (Art. 19).
"""

from __future__ import annotations

from datetime import datetime

from ledger.contract.families.requests import RequestKind
from ledger.policy.catalog import Catalog, Catalogs
from ledger.policy.deadlines import answer_due, controller_zone

#: The key class a request's personal details are sealed under: erased with the subject.
REQUESTS_KEY_CLASS = "requests"

#: The kinds whose answer is told to the recipients of the data (Art. 19).
NOTIFIED_KINDS = frozenset(
    {RequestKind.erasure, RequestKind.rectification, RequestKind.restriction}
)


def request_due(
    catalogs: Catalogs, controller: str, received_at: datetime, extended: bool
) -> datetime:
    """When the request must be answered, in UTC."""
    zone = controller_zone(catalogs, controller, received_at)
    return answer_due(received_at, zone, extended)


def identity_check_quote(catalog: Catalog | None) -> str | None:
    """The notice's sentence requiring an identity check, or None when it requires none."""
    if catalog is None:
        return None
    return next((d.quote for d in catalog.declarations if d.kind == "identity_check"), None)


def why_not_answerable(catalog: Catalog | None, closed: str | None, identity: str) -> str | None:
    """Why a request cannot be answered now (the rule and the fix), or None if it can.
    ``closed`` is how it was closed, if it was; ``identity`` is unchecked, verified or
    rejected."""
    if closed is not None:
        return f"the request was already {closed}; a closed request is not answered again"
    quote = identity_check_quote(catalog)
    if quote is not None and identity != "verified":
        return (
            f"the catalog requires the person's identity to be verified first ({quote!r}); "
            "identity is " + identity + " — fix: record the check with "
            "`pdl requests verify-identity`"
        )
    return None
