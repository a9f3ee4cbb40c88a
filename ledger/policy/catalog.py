"""The policy catalog: what a controller's privacy notice declares, as checked data.

A catalog file (TOML) transcribes one notice. Each entry quotes the sentence it comes
from, so a reviewer can check the transcription against the source.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ledger.contract.vocabulary import LegalBasis
from ledger.policy.calendar import parse_period, zone_named

__all__ = ["LegalBasis"]  # re-exported: catalogs speak of bases too

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]

#: EEA member states (ISO 3166-1 alpha-2): transfers elsewhere need a safeguard.
EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)


def _check_duration(text: str) -> str:
    parse_period(text)  # how it is applied: ledger.policy.calendar
    return text


def _check_time_zone(name: str) -> str:
    zone_named(name)
    return name


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quote: str = Field(min_length=1, description="The notice's sentence this entry transcribes.")
    #: "id" marks an entry the notice implies without naming it; a comment in the file says why.
    inferred: list[str] = Field(
        default=[], description="Fields the notice does not state, filled in by the transcriber."
    )

    @model_validator(mode="after")
    def _inferred_are_fields(self) -> Entry:
        unknown = sorted(set(self.inferred) - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"inferred names unknown fields: {', '.join(unknown)}")
        return self


#: What a retention duration counts from. Added for the seed notices: "termination" (of a
#: service, account or link), "user_deletion" (the subject deletes the item or asks for its
#: deletion), "contest_end", "request_received", "last_order".
Anchor = Literal[
    "collection",
    "last_contact",
    "contract_start",
    "contract_end",
    "transaction",
    "request_closed",
    "app_connection",
    "consent_withdrawn",
    "settlement",
    "event",
    "termination",
    "user_deletion",
    "contest_end",
    "request_received",
    "last_order",
]


class RetentionRule(Entry):
    duration: Annotated[str, AfterValidator(_check_duration)]
    anchor: Anchor
    anchor_purpose: Slug | None = Field(
        default=None,
        # left out of the canonical text when empty: catalogs not using it keep their digest
        exclude_if=lambda v: v is None,
        description="The purpose whose event the anchor is, when not the rule's own: a "
        "suppression list counts from the newsletter's consent_withdrawn.",
    )
    action: Literal["erase", "anonymise"] = "erase"
    ends_early_on: Anchor | None = Field(
        default=None, description="An event ending retention sooner: whichever comes first."
    )
    then: RetentionRule | None = Field(
        default=None, description="Next step, e.g. anonymise at closure then erase 13 months on."
    )


class Category(Entry):
    id: Slug
    title: str
    optional: bool = Field(default=False, description="The notice says giving it is optional.")


class Recipient(Entry):
    id: Slug
    name: str
    role: Literal["internal", "processor", "third_party", "authority"]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    safeguard: Literal["adequacy", "scc", "bcr", "derogation"] | None = None
    safeguard_quote: str | None = Field(
        default=None, description="The notice's sentence on the transfer safeguard, if any."
    )

    @model_validator(mode="after")
    def _transfer_needs_safeguard(self) -> Recipient:
        if self.country not in EEA and self.safeguard is None:
            raise ValueError(
                f"recipient {self.id} is in {self.country}, outside the EEA: "
                "set safeguard (adequacy, scc, bcr or derogation)"
            )
        return self


class Purpose(Entry):
    id: Slug
    title: str
    basis: LegalBasis
    categories: list[Slug] = Field(min_length=1)
    recipients: list[Slug] = []
    retention: RetentionRule
    retention_class: Slug | None = Field(
        default=None, description="Key class of the data; defaults to the purpose id."
    )
    basis_quote: str | None = Field(
        default=None, description="The notice's sentence stating the basis, if not `quote`."
    )
    other_bases: list[LegalBasis] = Field(
        default=[], description="Further bases the notice gives; `basis` is the one checked."
    )
    acting_as: Literal["controller", "processor"] | None = Field(
        default=None, description="Role for this purpose when it differs from controller.role."
    )
    on_behalf_of: str | None = Field(
        default=None, description="The controller(s) served when acting_as = processor."
    )
    legal_hold: bool = Field(
        default=False, description="Data survives erasure requests until retention ends (17(3))."
    )

    @model_validator(mode="after")
    def _roles_and_bases(self) -> Purpose:
        if (self.acting_as == "processor") != (self.on_behalf_of is not None):
            raise ValueError(f"purpose {self.id}: on_behalf_of goes with acting_as = processor")
        if self.basis in self.other_bases:
            raise ValueError(f"purpose {self.id}: other_bases repeats basis {self.basis.value}")
        return self

    @property
    def key_class(self) -> str:
        return self.retention_class or self.id


class Controller(Entry):
    id: Slug
    name: str
    role: Literal["controller", "processor"] = "controller"
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="Country of establishment (ISO 3166-1 alpha-2)."
    )
    time_zone: Annotated[str, AfterValidator(_check_time_zone)] = Field(
        description="IANA zone (Europe/Paris) in which the notice's dates are read: "
        "retention deadlines are computed and shown in it."
    )

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.time_zone)


class Contact(Entry):
    """How to reach the controller and its DPO (Art. 13(1)(a)-(b), 30(1)(a))."""

    address: str | None = None
    phone: str | None = None
    email: str | None = None
    dpo: str | None = Field(default=None, description="The DPO, when the notice names one.")


class DataSubjects(Entry):
    """A category of data subjects (Art. 30(1)(c)): customers, prospects, employees..."""

    id: Slug
    title: str
    purposes: list[Slug] = Field(default=[], description="Purposes concerning them; [] = all.")


class Authority(Entry):
    """The supervisory authority a subject may complain to (Art. 15(1)(f), 77)."""

    name: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    address: str
    website: str | None = None


class Declaration(Entry):
    """A commitment the notice makes about all its processing."""

    kind: Literal[
        "no_profiling",
        "no_automated_decisions",
        "no_marketing",
        "storage_location",
        "identity_check",
        "erasure_on_request",
    ]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="Where the data is stored, for kind = storage_location."
    )


class Catalog(BaseModel):
    """One version of one controller's policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    controller: Controller
    version: str
    effective_from: datetime
    source: str
    categories: list[Category]
    recipients: list[Recipient] = []
    purposes: list[Purpose] = Field(min_length=1)
    declarations: list[Declaration] = Field(
        default=[], description="Commitments on all processing (no profiling, storage place...)."
    )
    unresolved: list[Entry] = Field(
        default=[], description="Processing named without the basis or retention a purpose needs."
    )
    # Art. 30(1)(a), (c), (g) and Art. 15(1)(f): left out of the canonical text when absent,
    # so catalogs not using them keep their digest.
    contact: Contact | None = Field(default=None, exclude_if=lambda v: v is None)
    data_subjects: list[DataSubjects] = Field(default=[], exclude_if=lambda v: not v)
    security: Entry | None = Field(
        default=None,
        exclude_if=lambda v: v is None,
        description="The notice's description of its security measures (Art. 30(1)(g)).",
    )
    complaint_authority: Authority | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        categories = {c.id for c in self.categories}
        recipients = {r.id for r in self.recipients}
        for p in self.purposes:
            for c in p.categories:
                if c not in categories:
                    raise ValueError(f"purpose {p.id}: category {c} is not declared")
            for r in p.recipients:
                if r not in recipients:
                    raise ValueError(f"purpose {p.id}: recipient {r} is not declared")
            other = p.retention.anchor_purpose
            if other is not None and other not in {q.id for q in self.purposes}:
                raise ValueError(f"purpose {p.id}: anchor_purpose {other} is not declared")
        for s in self.data_subjects:
            for pid in s.purposes:
                if self.purpose(pid) is None:
                    raise ValueError(f"data_subjects {s.id}: purpose {pid} is not declared")
        if self.effective_from.tzinfo is None:
            raise ValueError("effective_from needs a time zone, e.g. 2023-08-01T00:00:00Z")
        return self

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)


def load_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return Catalog.model_validate(tomllib.load(f))


PACKAGED_DIR = Path(__file__).parent / "catalogs"


@dataclass(frozen=True)
class Publication:
    """One catalog version as the ledger learned it: ``recorded_at`` is the record time of
    its PolicyPublished event (None for a version packaged with pdl: known from the start).
    """

    catalog: Catalog
    recorded_at: datetime | None = None

    @property
    def retroactive(self) -> bool:
        """Published to take effect before it was recorded: it changes what the ledger
        believed about that stretch of the past, from its record time on."""
        return self.recorded_at is not None and self.catalog.effective_from < self.recorded_at

    def known_at(self, instant: datetime | None) -> bool:
        return instant is None or self.recorded_at is None or self.recorded_at <= instant


class Catalogs:
    """Every known catalog version, by controller; answers "which version was in force at
    T", and "as known at K": the latest version effective at T among those published by K.
    """

    def __init__(self, catalogs: list[Catalog], published: Sequence[Publication] = ()) -> None:
        self._by_controller: dict[str, list[Catalog]] = {}
        for c in sorted(catalogs, key=lambda c: c.effective_from):
            self._by_controller.setdefault(c.controller.id, []).append(c)
        self._publications: dict[str, list[Publication]] = {}
        packaged = {(c.controller.id, c.version) for c in catalogs} - {
            (p.catalog.controller.id, p.catalog.version) for p in published
        }
        every = [Publication(c) for c in catalogs if (c.controller.id, c.version) in packaged]
        for p in sorted([*every, *published], key=_publication_order):
            self._publications.setdefault(p.catalog.controller.id, []).append(p)

    @classmethod
    def packaged(cls) -> Catalogs:
        return cls([load_catalog(p) for p in sorted(PACKAGED_DIR.glob("*.toml"))])

    def controllers(self) -> list[str]:
        return sorted(self._by_controller)

    def in_force(
        self, controller: str, at: datetime, known_at: datetime | None = None
    ) -> Catalog | None:
        """The version in force at ``at``; with ``known_at``, as the ledger knew it then:
        a version published after K, even one effective before T, does not count."""
        if known_at is None:
            versions = self._by_controller.get(controller, [])
            current = [c for c in versions if c.effective_from <= at]
            return current[-1] if current else None
        known = [
            p
            for p in self._publications.get(controller, [])
            if p.known_at(known_at) and p.catalog.effective_from <= at
        ]
        return known[-1].catalog if known else None

    def including(self, published: Sequence[Publication]) -> Catalogs:
        """These catalogs plus published versions; a published version replaces a packaged
        one of the same controller and version (its latest publication gives the text)."""
        known = {(c.controller.id, c.version): c for vs in self._by_controller.values() for c in vs}
        for p in sorted(published, key=_publication_order):
            known[(p.catalog.controller.id, p.catalog.version)] = p.catalog
        return Catalogs(list(known.values()), [*self.publications(), *published])

    def publications(self, controller: str | None = None) -> list[Publication]:
        """Every publication (of one controller), by effective date then record time."""
        if controller is not None:
            return list(self._publications.get(controller, []))
        return [p for _, ps in sorted(self._publications.items()) for p in ps]

    def record_times(self, controller: str) -> list[datetime]:
        """When a publication of the controller changed what the ledger knew of its policy."""
        return sorted({p.recorded_at for p in self.publications(controller) if p.recorded_at})

    def all(self) -> list[Catalog]:
        return [c for _, versions in sorted(self._by_controller.items()) for c in versions]

    def controllers_with_purpose(self, purpose_id: str) -> list[str]:
        return sorted(
            c
            for c, versions in self._by_controller.items()
            if any(v.purpose(purpose_id) for v in versions)
        )

    def versions(self, controller: str) -> list[Catalog]:
        """Every known version of a controller's catalog, oldest first."""
        return list(self._by_controller.get(controller, []))

    def earliest(self, controller: str) -> Catalog | None:
        versions = self._by_controller.get(controller)
        return versions[0] if versions else None


def _publication_order(p: Publication) -> tuple[datetime, datetime]:
    # a version packaged with pdl counts as recorded before any publication
    return p.catalog.effective_from, p.recorded_at or datetime.min.replace(tzinfo=UTC)
