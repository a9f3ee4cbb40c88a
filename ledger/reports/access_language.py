"""The subject access answer (GDPR Art. 15) as a document a controller can send to the
person, in French or in English.

Headings, article texts and labels are localised; the person sees their data, purposes,
sources, recipients, transfers, retention in words, their rights, the complaint authority
and automated decision-making. Internal ids (events, log positions, catalog ids) appear
only in the appendix. Printable: tables wrap their cells and keep every column on an A4
page (``@page`` and fixed table layout).
"""

from __future__ import annotations

from html import escape
from typing import Any

LANGUAGES = ("en", "fr")

_TEXT: dict[str, dict[str, str]] = {
    "title": {
        "en": "Your personal data: access request",
        "fr": "Vos données personnelles : demande d'accès",
    },
    "intro": {
        "en": "In answer to your request under Article 15 of the General Data Protection "
        "Regulation (GDPR), here is the personal data we hold about you, why, where it "
        "came from, who receives it, how long it is kept, and your rights.",
        "fr": "En réponse à votre demande fondée sur l'article 15 du règlement général sur "
        "la protection des données (RGPD), voici les données personnelles que nous détenons "
        "vous concernant, pourquoi, d'où elles viennent, qui les reçoit, combien de temps "
        "elles sont conservées, et vos droits.",
    },
    "as_of": {"en": "Situation as of", "fr": "Situation au"},
    "controller": {"en": "Controller", "fr": "Responsable du traitement"},
    "values": {
        "en": "1. The data we hold (Art. 15(1)(b), 15(3))",
        "fr": "1. Les données que nous détenons (art. 15, paragraphes 1 b) et 3)",
    },
    "purposes": {
        "en": "2. Why we process it, and on what legal basis (Art. 15(1)(a))",
        "fr": "2. Pourquoi nous les traitons, et sur quelle base légale (art. 15, paragraphe 1 a))",
    },
    "recipients": {
        "en": "3. Who receives it (Art. 15(1)(c))",
        "fr": "3. Qui les reçoit (art. 15, paragraphe 1 c))",
    },
    "transfers": {
        "en": "4. Transfers outside the European Economic Area (Art. 15(2))",
        "fr": "4. Transferts hors de l'Espace économique européen (art. 15, paragraphe 2)",
    },
    "retention": {
        "en": "5. How long it is kept (Art. 15(1)(d))",
        "fr": "5. Combien de temps elles sont conservées (art. 15, paragraphe 1 d))",
    },
    "sources": {
        "en": "6. Where it came from (Art. 15(1)(g))",
        "fr": "6. D'où elles proviennent (art. 15, paragraphe 1 g))",
    },
    "automated": {
        "en": "7. Automated decisions and profiling (Art. 15(1)(h))",
        "fr": "7. Décisions automatisées et profilage (art. 15, paragraphe 1 h))",
    },
    "rights": {
        "en": "8. Your rights (Art. 15(1)(e))",
        "fr": "8. Vos droits (art. 15, paragraphe 1 e))",
    },
    "complaint": {
        "en": "9. Your right to complain (Art. 15(1)(f), Art. 77)",
        "fr": "9. Votre droit d'introduire une réclamation (art. 15, paragraphe 1 f), art. 77)",
    },
    "appendix": {
        "en": "Appendix: references for the controller",
        "fr": "Annexe : références pour le responsable du traitement",
    },
    "category": {"en": "Category", "fr": "Catégorie"},
    "value": {"en": "Value", "fr": "Valeur"},
    "purpose": {"en": "Purpose", "fr": "Finalité"},
    "source": {"en": "Source", "fr": "Source"},
    "collected": {"en": "Collected on", "fr": "Collectée le"},
    "basis": {"en": "Legal basis", "fr": "Base légale"},
    "consent": {"en": "Consent", "fr": "Consentement"},
    "recipient": {"en": "Recipient", "fr": "Destinataire"},
    "country": {"en": "Country", "fr": "Pays"},
    "status": {"en": "Status", "fr": "Statut"},
    "safeguard": {"en": "Safeguard", "fr": "Garantie"},
    "shares": {"en": "Disclosures", "fr": "Communications"},
    "period": {"en": "Period", "fr": "Période"},
    "kept": {"en": "Kept", "fr": "Durée de conservation"},
    "declared": {
        "en": "declared recipient (may receive it)",
        "fr": "destinataire déclaré (peut les recevoir)",
    },
    "shared": {"en": "received it", "fr": "les a reçues"},
    "none": {"en": "None.", "fr": "Aucun."},
    "no_automated": {
        "en": "We make no decision based solely on automated processing, including profiling, "
        "that produces legal effects concerning you or similarly significantly affects you.",
        "fr": "Nous ne prenons aucune décision fondée exclusivement sur un traitement "
        "automatisé, y compris le profilage, produisant des effets juridiques vous concernant "
        "ou vous affectant de manière significative de façon similaire.",
    },
    "unknown_automated": {
        "en": "Our privacy notice does not state that no automated decisions are made; "
        "none is recorded in this ledger. You have the right not to be subject to such a "
        "decision (Art. 22) and to obtain human intervention.",
        "fr": "Notre politique de confidentialité n'indique pas l'absence de décision "
        "automatisée ; aucune n'est enregistrée. Vous avez le droit de ne pas faire l'objet "
        "d'une telle décision (art. 22) et d'obtenir une intervention humaine.",
    },
    "complaint_text": {
        "en": "If you consider that the processing of your data infringes the GDPR, you may "
        "lodge a complaint with the supervisory authority:",
        "fr": "Si vous estimez que le traitement de vos données enfreint le RGPD, vous pouvez "
        "introduire une réclamation auprès de l'autorité de contrôle :",
    },
    "contact": {"en": "Contact", "fr": "Contact"},
    "event": {"en": "Event", "fr": "Événement"},
    "position": {"en": "Log position", "fr": "Position du journal"},
    "field": {"en": "Field", "fr": "Champ"},
}

_RIGHTS: dict[str, dict[str, str]] = {
    "15": {"en": "Access to your data (Art. 15)", "fr": "Droit d'accès à vos données (art. 15)"},
    "16": {
        "en": "Rectification of inaccurate data (Art. 16)",
        "fr": "Droit de rectification des données inexactes (art. 16)",
    },
    "17": {"en": "Erasure (Art. 17)", "fr": "Droit à l'effacement (art. 17)"},
    "18": {
        "en": "Restriction of processing (Art. 18)",
        "fr": "Droit à la limitation du traitement (art. 18)",
    },
    "20": {
        "en": "Data portability (Art. 20)",
        "fr": "Droit à la portabilité des données (art. 20)",
    },
    "21": {
        "en": "Objection to processing (Art. 21)",
        "fr": "Droit d'opposition au traitement (art. 21)",
    },
    "22": {
        "en": "Not to be subject to a decision based solely on automated processing (Art. 22)",
        "fr": "Droit de ne pas faire l'objet d'une décision fondée exclusivement sur un "
        "traitement automatisé (art. 22)",
    },
    "7(3)": {
        "en": "Withdrawal of consent at any time, without affecting earlier processing (Art. 7(3))",
        "fr": "Droit de retirer votre consentement à tout moment, sans remettre en cause "
        "le traitement antérieur (art. 7, paragraphe 3)",
    },
}

_BASES = {
    "consent": {
        "en": "your consent (Art. 6(1)(a))",
        "fr": "votre consentement (art. 6, paragraphe 1 a))",
    },
    "contract": {
        "en": "a contract with you (Art. 6(1)(b))",
        "fr": "l'exécution d'un contrat (art. 6, paragraphe 1 b))",
    },
    "legal_obligation": {
        "en": "a legal obligation (Art. 6(1)(c))",
        "fr": "une obligation légale (art. 6, paragraphe 1 c))",
    },
    "vital_interest": {
        "en": "vital interests (Art. 6(1)(d))",
        "fr": "la sauvegarde des intérêts vitaux (art. 6, paragraphe 1 d))",
    },
    "public_task": {
        "en": "a public task (Art. 6(1)(e))",
        "fr": "une mission d'intérêt public (art. 6, paragraphe 1 e))",
    },
    "legitimate_interest": {
        "en": "our legitimate interest (Art. 6(1)(f))",
        "fr": "notre intérêt légitime (art. 6, paragraphe 1 f))",
    },
}

_SAFEGUARDS = {
    "adequacy": {"en": "adequacy decision (Art. 45)", "fr": "décision d'adéquation (art. 45)"},
    "scc": {
        "en": "standard contractual clauses (Art. 46(2)(c))",
        "fr": "clauses contractuelles types (art. 46, paragraphe 2 c))",
    },
    "bcr": {
        "en": "binding corporate rules (Art. 47)",
        "fr": "règles d'entreprise contraignantes (art. 47)",
    },
    "derogation": {"en": "derogation (Art. 49)", "fr": "dérogation (art. 49)"},
}

_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: sans-serif; font-size: 10pt; margin: 1em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 1.4em; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: .4em 0; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; }
th { background: #eee; }
tr { break-inside: avoid; }
.appendix { font-size: 8pt; color: #444; }
"""


def _t(key: str, language: str) -> str:
    return _TEXT[key][language]


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _titles(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(p["controller"], p["purpose"]): p["title"] or p["purpose"] for p in report["purposes"]}


def _category_titles(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["controller"], c["id"]): c["title"] or c["id"] for c in report["categories"]}


def access_html(report: dict[str, Any], language: str) -> str:
    """The access report as a document for the person, in ``language`` (``en`` or ``fr``)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    lang = language
    body = report
    titles, categories = _titles(body), _category_titles(body)
    names = {i["controller"]: i["name"] for i in body.get("controllers_info", [])}

    def purposes_of(controller: str, ids: list[str]) -> str:
        return ", ".join(titles.get((controller, p), p) for p in ids)

    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(_t('title', lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(_t('title', lang))}</h1>",
        f"<p>{escape(_t('intro', lang))}</p>",
        f"<p>{escape(_t('as_of', lang))} {escape(str(report.get('at') or '')[:10])}</p>",
    ]
    for info in body.get("controllers_info", []):
        contact = " · ".join(x for x in (info["address"], info["email"], info["phone"]) if x)
        out.append(
            f"<p><strong>{escape(_t('controller', lang))}:</strong> {escape(info['name'])}"
            + (f" — {escape(contact)}" if contact else "")
            + "</p>"
        )
    out.append(f"<h2>{escape(_t('values', lang))}</h2>")
    out.append(
        _table(
            [
                _t(k, lang)
                for k in ("controller", "category", "value", "purpose", "source", "collected")
            ],
            [
                [
                    names.get(v["controller"], v["controller"]),
                    categories.get((v["controller"], v["category"]), v["category"]),
                    v["value"],
                    purposes_of(v["controller"], v["purposes"]),
                    v["source"],
                    (v.get("occurred_at") or "")[:10],
                ]
                for v in body["values"]
            ],
        )
    )
    out.append(f"<h2>{escape(_t('purposes', lang))}</h2>")
    out.append(
        _table(
            [_t(k, lang) for k in ("controller", "purpose", "basis", "consent")],
            [
                [
                    names.get(p["controller"], p["controller"]),
                    p["title"] or p["purpose"],
                    _BASES.get(p["declared_basis"] or "", {}).get(lang, p["declared_basis"]),
                    (p["consent"] or {}).get("status", ""),
                ]
                for p in body["purposes"]
            ],
        )
    )
    out.append(f"<h2>{escape(_t('recipients', lang))}</h2>")
    rows = [
        [
            r["name"] or r["recipient"],
            r["country"],
            purposes_of(r["controller"], r["purposes"]),
            "; ".join(_t(k, lang) for k in ("shared", "declared") if r[k]),
        ]
        for r in body["recipients"]
    ]
    out.append(
        _table([_t(k, lang) for k in ("recipient", "country", "purpose", "status")], rows)
        if rows
        else f"<p>{escape(_t('none', lang))}</p>"
    )
    out.append(f"<h2>{escape(_t('transfers', lang))}</h2>")
    rows = [
        [
            t["recipient"],
            t["country"],
            _SAFEGUARDS.get(t["safeguard"] or "", {}).get(lang, t["safeguard"] or "—"),
            t["shares"],
            f"{t['first_at'][:10]} – {t['last_at'][:10]}",
        ]
        for t in body["transfers"]
    ]
    out.append(
        _table(
            [_t(k, lang) for k in ("recipient", "country", "safeguard", "shares", "period")], rows
        )
        if rows
        else f"<p>{escape(_t('none', lang))}</p>"
    )
    out.append(f"<h2>{escape(_t('retention', lang))}</h2>")
    out.append(
        _table(
            [_t(k, lang) for k in ("category", "purpose", "kept")],
            [
                [c["title"] or c["category"], rule["title"], rule[lang]]
                for c in body["retention_by_category"]
                for rule in c["rules"]
            ],
        )
    )
    out.append(f"<h2>{escape(_t('sources', lang))}</h2>")
    out.append(
        _table(
            [_t(k, lang) for k in ("controller", "source", "category", "period")],
            [
                [
                    names.get(s["controller"], s["controller"]),
                    s["source"],
                    ", ".join(categories.get((s["controller"], c), c) for c in s["categories"]),
                    f"{s['first_at'][:10]} – {s['last_at'][:10]}",
                ]
                for s in body["sources"]
            ],
        )
    )
    out.append(f"<h2>{escape(_t('automated', lang))}</h2>")
    for info in body.get("controllers_info", []):
        key = (
            "no_automated" if info["automated_decisions"]["none_declared"] else "unknown_automated"
        )
        out.append(f"<p>{escape(info['name'])}: {escape(_t(key, lang))}</p>")
    out.append(f"<h2>{escape(_t('rights', lang))}</h2><ul>")
    rights = sorted(
        {r for i in body.get("controllers_info", []) for r in i["rights"]}, key=list(_RIGHTS).index
    )
    out.extend(f"<li>{escape(_RIGHTS[r][lang])}</li>" for r in rights)
    out.append("</ul>")
    out.append(f"<h2>{escape(_t('complaint', lang))}</h2>")
    for info in body.get("controllers_info", []):
        a = info["complaint_authority"]
        if a is None:
            continue
        out.append(
            f"<p>{escape(info['name'])}: {escape(_t('complaint_text', lang))} "
            f"<strong>{escape(a['name'])}</strong>, {escape(a['address'])}"
            + (f", {escape(a['website'])}" if a.get("website") else "")
            + "</p>"
        )
    out.append(f'<div class="appendix"><h2>{escape(_t("appendix", lang))}</h2>')
    out.append(f"<p>subject_id: {escape(body['subject_id'])}</p>")
    out.append(
        _table(
            [_t(k, lang) for k in ("controller", "field", "purpose", "event", "position")],
            [
                [
                    v["controller"],
                    v["field"],
                    ", ".join(v["purposes"]),
                    v.get("event_id"),
                    v.get("position"),
                ]
                for v in body["values"]
            ],
        )
    )
    out.append("</div></body></html>")
    return "\n".join(out)
