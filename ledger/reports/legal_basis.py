"""Legal basis (GDPR Art. 6(1)) of one purpose — for one subject, or across every
subject with facts for it — as of T and as known at K.

For each subject: the basis at T with its interval and evidence, the basis over valid
time (merged intervals, each naming the events it rests on), the facts, and every
processing and disclosure judged as known when it was recorded and as known at K
(``projections.lawfulness.judge``); then every one found unlawful either way, and the
catalog versions published on the log, retroactive ones marked.
"""

from __future__ import annotations

from typing import Any

from ledger.reports.catalog_views import catalog_ref, purpose_in_force, purpose_view
from ledger.reports.journal import basis_facts, import_claims, purpose_basis_facts
from ledger.reports.reading import Reading, SubjectNotFound, envelope, iso
from ledger.reports.timeline import basis_timeline, first_fact_at, judgements_as_of, unlawful
from ledger.service.queries import controllers_with_facts, subject_state
from ledger.service.views import basis_answer_view, fact_view, judgement_view
from projections.basis import BasisFacts
from projections.lawfulness import basis_at

REPORT = "legal_basis"
TITLE = "Legal basis"
ARTICLE = "GDPR Art. 6(1), 7 and 21"


def legal_basis(
    reading: Reading,
    purpose: str | None,
    subject_id: str | None = None,
    controller: str | None = None,
) -> dict[str, Any]:
    catalog, declared = purpose_in_force(
        reading.ledger.catalogs,
        purpose,
        controller,
        reading.at,
        controllers_with_facts(reading.ledger, purpose),
    )
    owner = catalog.controller.id
    if subject_id is not None:
        if subject_state(reading.ledger, subject_id) is None:
            raise SubjectNotFound(f"{subject_id}: no events recorded for this subject")
        found = [basis_facts(reading, subject_id, owner, declared.id)]
    else:
        found = purpose_basis_facts(reading, owner, declared.id)
    subjects = [_subject(reading, facts) for facts in found]
    judged = [j for s in subjects for j in s["processing"]]
    body = {
        "purpose": purpose_view(declared, catalog),
        "catalog": catalog_ref(catalog),
        "policy_changes": policy_changes(reading, owner),
        "subjects": subjects,
        "unlawful": unlawful(judged),
        "summary": {
            "subjects": len(subjects),
            "with_basis_at_t": sum(1 for s in subjects if s["basis_at"]["basis"]),
            "processing": len(judged),
            "unlawful_as_known_then": sum(j["verdict_then"] == "unlawful" for j in judged),
            "unlawful_as_known_at_k": sum(j["verdict_now"] == "unlawful" for j in judged),
        },
    }
    parameters = {"subject_id": subject_id, "purpose": declared.id, "controller": owner}
    return envelope(reading, REPORT, TITLE, ARTICLE, parameters, body)


def policy_changes(reading: Reading, controller: str) -> list[dict[str, Any]]:
    """Every version of the controller's catalog published on the log by K, with its
    record time; ``retroactive`` when it took effect before it was recorded, so that what
    the ledger believed about that stretch of the past changed at ``recorded_at``."""
    return [
        {
            "version": p.catalog.version,
            "effective_from": iso(p.catalog.effective_from),
            "recorded_at": iso(p.recorded_at),
            "retroactive": p.retroactive,
        }
        for p in reading.ledger.catalogs.publications(controller)
        if p.recorded_at is not None and p.recorded_at <= reading.horizon
    ]


def _subject(reading: Reading, facts: BasisFacts) -> dict[str, Any]:
    catalogs = reading.ledger.catalogs
    start = first_fact_at(facts)
    timeline = (
        [] if start is None else basis_timeline(facts, catalogs, reading.horizon, start, reading.at)
    )
    # an imported fact shows what its source claims next to it; record time still rules
    claims = import_claims(reading, facts.subject_id)
    answer = basis_answer_view(basis_at(facts, catalogs, reading.at, reading.horizon))
    answer["evidence"] = [{**e, "imported": claims.get(e["event_id"])} for e in answer["evidence"]]
    return {
        "subject_id": facts.subject_id,
        "basis_at": answer,
        "timeline": [s.as_json() for s in timeline],
        "facts": [{**fact_view(f), "imported": claims.get(f.event_id)} for f in facts.facts],
        "processing": [
            judgement_view(facts.subject_id, j)
            for j in judgements_as_of(facts, catalogs, reading.at, reading.horizon)
        ],
    }


def one_subject(report: dict[str, Any]) -> dict[str, Any]:
    """The legal-basis report about one subject, as ``pdl basis --json`` prints it: T, K,
    the positions and the parameters, then the subject's entry (``basis_at``,
    ``timeline``, ``facts``, ``processing``) exactly as in ``subjects``."""
    (entry,) = report["subjects"]
    return {
        "at": report["at"],
        "known_at": report["known_at"],
        "positions": report["positions"],
        **report["parameters"],
        **entry,
    }
