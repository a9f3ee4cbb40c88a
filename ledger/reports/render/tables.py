"""Each report as tables (rows of flat cells), for CSV and for the HTML tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[Row]


def cell(value: Any) -> str:
    """One flat cell: lists joined by ``; ``, booleans as true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in sorted(value.items()))
    return str(value)


#: What a spreadsheet may take for the start of a formula (``=HYPERLINK(…)`` sent through
#: a web form would otherwise become a live link in the DPO's spreadsheet).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell for CSV: ``cell``, with a leading ``'`` when the text could start a formula
    (OWASP's advice; spreadsheets show the text, not a formula). Numbers stay numbers."""
    text = cell(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _table(name: str, title: str, columns: str, rows: list[Row]) -> Table:
    return Table(name, title, tuple(columns.split()), rows)


def _ropa(r: dict[str, Any]) -> list[Table]:
    purposes, recipients, transfers = [], [], []
    served: list[Row] = []
    for section in r["controllers"]:
        cid = section["controller"]["id"]
        served.extend({"processor": cid, **x} for x in section["processing_for_controllers"])
        for p in section["purposes"]:
            purposes.append(
                {
                    "controller": cid,
                    "purpose": p["id"],
                    **p,
                    **p["observed"],
                    "retention": p["retention_words"]["en"],
                    "observed": None,
                }
            )
        for x in section["recipients"]:
            recipients.append({"controller": cid, "recipient": x["id"], **x, **x["observed"]})
        for kind in ("declared", "observed"):
            for t in section["transfers_outside_eea"][kind]:
                transfers.append({"controller": cid, "kind": kind, **t})
    return [
        _table(
            "purposes",
            "Purposes: declared, and what the ledger saw",
            "controller purpose title acting_as on_behalf_of basis other_bases categories "
            "recipients retention retention_class legal_hold subjects events processing "
            "unlawful_as_known_then unlawful_as_known_at_k recipients_shared_with",
            purposes,
        ),
        _table(
            "recipients",
            "Recipients",
            "controller recipient name role country outside_eea safeguard shares subjects",
            recipients,
        ),
        _table(
            "transfers",
            "Transfers outside the EEA",
            "controller kind recipient country "
            "safeguard purposes subjects shares first_at last_at declared",
            transfers,
        ),
        _table(
            "processing_for_controllers",
            "Processing as a processor, per controller served (Art. 30(2))",
            "processor controller name declared_as_processor subjects events purposes kinds "
            "first_at last_at",
            served,
        ),
    ]


def _access(r: dict[str, Any]) -> list[Table]:
    purposes = [
        {
            **p,
            "basis_at_t": p["basis_at"]["basis"],
            "reason": p["basis_at"]["reason"],
            "valid_from": p["basis_at"]["valid_from"],
            "valid_to": p["basis_at"]["valid_to"],
            "consent": (p["consent"] or {}).get("status"),
            "processing": len(p["processing"]),
            "unlawful": sum(
                "unlawful" in (j["verdict_then"], j["verdict_now"]) for j in p["processing"]
            ),
        }
        for p in r["purposes"]
    ]
    return [
        _table(
            "values",
            "Data held",
            "controller category field value purposes source "
            "rectified occurred_at event_id position",
            r["values"],
        ),
        _table(
            "purposes",
            "Purposes and legal basis at T",
            "controller purpose title "
            "declared_basis basis_at_t reason valid_from valid_to consent processing unlawful",
            purposes,
        ),
        _table(
            "recipients",
            "Recipients",
            "recipient name role country safeguard purposes first_at last_at",
            r["recipients"],
        ),
        _table(
            "retention",
            "Retention deadlines",
            "controller purpose retention_class due status rule explanation",
            r["retention"],
        ),
        _table(
            "sources",
            "Sources",
            "controller source categories collections first_at last_at",
            r["sources"],
        ),
        _table(
            "restrictions",
            "Restrictions (Art. 18)",
            "scope active reason occurred_at event_id position",
            r["restrictions"],
        ),
        _table(
            "holds",
            "Legal holds (Art. 17(3))",
            "scope active reason article until occurred_at event_id position",
            r["holds"],
        ),
        _table(
            "erasures",
            "Erasures (Art. 17)",
            "scope reason done keys_destroyed occurred_at event_id position",
            r["erasures"],
        ),
    ]


def _basis(r: dict[str, Any]) -> list[Table]:
    intervals = [
        {"subject_id": s["subject_id"], **seg} for s in r["subjects"] for seg in s["timeline"]
    ]
    processing = [j for s in r["subjects"] for j in s["processing"]]
    # added after the first two tables, so their columns keep their places in the CSV
    facts = [
        {"subject_id": s["subject_id"], **f, **_imported(f["imported"])}
        for s in r["subjects"]
        for f in s["facts"]
    ]
    return [
        _table(
            "intervals",
            "Basis over valid time",
            "subject_id from to basis reason evidence",
            intervals,
        ),
        _table(
            "processing",
            "Processing, judged as known then and as known at K",
            "subject_id occurred_at recorded_at system claimed_basis verdict_then "
            "reason_then verdict_now reason_now note event_id position",
            processing,
        ),
        _table(
            "facts",
            "Facts the basis rests on; an imported one with what its source claims",
            "subject_id kind occurred_at recorded_at claimed_basis system expires_at "
            "event_id position imported_source imported_recorded_at",
            facts,
        ),
    ]


def _imported(claim: dict[str, Any] | None) -> Row:
    """An import claim as two cells: the source system and when it says it recorded the
    fact (``recorded_at`` stays the ledger's record time); empty for a first-hand fact."""
    claim = claim or {}
    return {
        "imported_source": claim.get("source"),
        "imported_recorded_at": claim.get("recorded_at"),
    }


def _consent(r: dict[str, Any]) -> list[Table]:
    return [
        Table("records", "Consents, withdrawals and objections", tuple(r["columns"]), r["records"])
    ]


def _erasure(r: dict[str, Any]) -> list[Table]:
    return [
        _table(
            "certificates",
            "Certificates",
            "sequence certificate_id subject_id controller "
            "scope reason requested_at erased_at position keys_destroyed "
            "retention_classes_erased retained_classes verified problems",
            r["certificates"],
        ),
        _table(
            "pending",
            "Requests waiting for an answer",
            "request_event_id subject_id controller scope reason requested_at answer_due overdue",
            r["pending_requests"],
        ),
        _table(
            "shredding",
            "Erased data cannot be decrypted",
            "subject_id ok fields_in_scope readable_in_scope retained_under_hold fenced",
            r["shredding_verified"],
        ),
    ]


def _retention(r: dict[str, Any]) -> list[Table]:
    rows = [e for status in ("overdue", "held", "upcoming", "undetermined") for e in r[status]]
    held = [{**e, "held_by": [g["reason"] for g in e["held_by"]]} for e in rows]
    return [
        _table(
            "deadlines",
            "Retention deadlines",
            "status subject_id controller purpose retention_class due rule explanation held_by",
            held,
        )
    ]


def _transfers(r: dict[str, Any]) -> list[Table]:
    rows = [{"kind": "declared", **d} for d in r["declared"]]
    rows += [{"kind": "observed", **o} for o in r["observed"]]
    return [
        _table(
            "transfers",
            "Transfers outside the EEA",
            "kind controller recipient name "
            "role country safeguard safeguard_inferred purposes subjects shares first_at "
            "last_at declared matches_declaration",
            rows,
        )
    ]


def _requests_overdue(r: dict[str, Any]) -> list[Table]:
    columns = "controller request_id subject_id kind channel received_at due_at extended "
    columns += "extension_reason identity position"
    return [_table("requests", "Requests past their deadline", columns, r["requests"])]


_TABLES: dict[str, Callable[[dict[str, Any]], list[Table]]] = {
    "record_of_processing": _ropa,
    "subject_access": _access,
    "legal_basis": _basis,
    "consent_proof": _consent,
    "erasure_register": _erasure,
    "requests_overdue": _requests_overdue,
    "retention_compliance": _retention,
    "transfers_outside_eea": _transfers,
}


def report_tables(report: dict[str, Any]) -> list[Table]:
    return _TABLES[report["report"]](report)
