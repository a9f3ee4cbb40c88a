"""The subject access report's HTML in French: a minimal, honest localisation.

Only the headings and the article texts of the Art. 15 report are translated (title,
article, section and table headings, the header's labels); column names, values, event
ids and positions stay as the ledger writes them. The English rendering
(``ledger.reports.render.html``) is the reference; this replaces known phrases in it.
"""

from __future__ import annotations

from typing import Any

from ledger.reports.render.html import report_html

LANGUAGES = ("en", "fr")

_FRENCH: tuple[tuple[str, str], ...] = (
    ('<html lang="en">', '<html lang="fr">'),
    ("Subject access", "Droit d'accès de la personne concernée"),
    ("GDPR Art. 15", "RGPD, article 15"),
    ("Consents and legal bases over time", "Consentements et bases légales dans le temps"),
    ("Data held", "Données détenues"),
    ("Purposes and legal basis at T", "Finalités et base légale à la date T"),
    ("<h3>Recipients</h3>", "<h3>Destinataires</h3>"),
    ("Retention deadlines", "Durées de conservation"),
    ("<h3>Sources</h3>", "<h3>Sources</h3>"),
    ("Restrictions (Art. 18)", "Limitations (article 18)"),
    ("Legal holds (Art. 17(3))", "Conservations légales (article 17, paragraphe 3)"),
    ("Erasures (Art. 17)", "Effacements (article 17)"),
    ("as of (T)", "à la date (T)"),
    ("as known at (K)", "selon ce qui était connu à (K)"),
    ("personal fields", "données personnelles"),
    (
        "Log positions this report was computed from",
        "Positions du journal dont ce rapport est calculé",
    ),
)


def access_html(report: dict[str, Any], language: str) -> str:
    """The access report's HTML in ``language`` (``en`` or ``fr``)."""
    html = report_html(report)
    if language == "en":
        return html
    if language != "fr":
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    for english, french in _FRENCH:
        html = html.replace(english, french)
    return html
