"""A report as one self-contained HTML page for people: inline CSS, inline SVG figures,
no script, no web font, no link to anything outside the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from ledger.reports.render.svg import TimelineRow, timeline_svg
from ledger.reports.render.tables import Table, cell, report_tables

#: At most this many subjects are drawn in a whole-purpose figure (all are in the tables).
MAX_FIGURE_ROWS = 40

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px 32px;
color:#1c2833;background:#fff;font-size:14px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:2px solid #1565c0;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.article{color:#546e7a;margin:0 0 12px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:8px 0}
dl.meta dt{font-weight:600;color:#37474f}dl.meta dd{margin:0;font-family:ui-monospace,monospace}
.chips span{display:inline-block;background:#eceff1;border-radius:12px;padding:3px 10px;
margin:2px 4px 2px 0}.ok{color:#1b5e20;font-weight:700}.bad{color:#c62828;font-weight:700}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:6px 0 14px;width:100%;
font-size:12px}th,td{border:1px solid #cfd8dc;padding:3px 5px;text-align:left;
vertical-align:top;overflow-wrap:break-word}
th{background:#eceff1;font-weight:600}tr:nth-child(even) td{background:#fafafa}
td.withheld{color:#78909c;font-style:italic}td.unlawful{color:#c62828;font-weight:600}
.empty{color:#78909c;font-style:italic}details{margin:6px 0}
svg.timeline{max-width:100%;height:auto;border:1px solid #eceff1;background:#fff}
svg .label{font-size:12px;fill:#263238}svg .tick{font-size:11px;fill:#455a64;
text-anchor:middle}svg .tick-left{font-size:11px;fill:#455a64}
svg .note{font-size:11px;fill:#546e7a}
footer{margin-top:32px;color:#78909c;font-size:12px}
"""


def report_html(report: dict[str, Any]) -> str:
    body = [*_header(report), *_lead(report)]
    for table in report_tables(report):
        body.extend(_table(table))
    body.append(
        "<footer>Computed from the log positions above, as of T"
        + (" and as known at K" if report["known_at"] else "")
        + ". No generation time is recorded: the same log and the same T (and K) give the "
        "same report.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(report['title'])} — pdl</title>"
        f'<meta name="viewport" content="width=device-width"><style>{CSS}</style></head>'
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _header(r: dict[str, Any]) -> list[str]:
    rows = [
        ("as of (T)", r["at"]),
        ("as known at (K)", r["known_at"] or "everything up to the log positions below"),
        ("personal fields", r["personal_fields"]),
        *((k.replace("_", " "), v) for k, v in sorted(r["parameters"].items()) if v),
    ]
    positions = "".join(
        f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in r["positions"].items()
    )
    return [
        f"<h1>{escape(r['title'])}</h1>",
        f'<p class="article">{escape(r["article"])} · pdl report <code>{escape(r["report"])}'
        "</code></p>",
        '<dl class="meta">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
        + "</dl>",
        "<details><summary>Log positions this report was computed from</summary>"
        f"<table><tr><th>topic/partition</th><th>next offset</th></tr>{positions}</table>"
        "</details>",
    ]


def _chips(summary: dict[str, Any]) -> str:
    items = "".join(
        f"<span>{escape(k.replace('_', ' '))}: <b>{escape(cell(v))}</b></span>"
        for k, v in summary.items()
    )
    return f'<p class="chips">{items}</p>'


def _lead(r: dict[str, Any]) -> list[str]:
    kind = r["report"]
    out = []
    if "summary" in r:
        out.append(_chips(r["summary"]))
    if kind == "retention_compliance":
        verdict = (
            ("ok", "No data is held past its deadline.")
            if r["compliant"]
            else (
                "bad",
                f"{len(r['overdue'])} retention deadline(s) passed with the data still held.",
            )
        )
        out.append(f'<p class="{verdict[0]}">{escape(verdict[1])}</p>')
    elif kind == "erasure_register":
        reg = r["register"]
        state = ("ok", "intact") if reg["intact"] else ("bad", "NOT intact")
        out.append(
            f'<p class="{state[0]}">Register {state[1]}: {reg["certificates"]} certificate(s), '
            f"head #{reg['head_sequence']} sha256 <code>{escape(reg['head_sha256'])}</code></p>"
        )
        out.extend(f'<p class="bad">{escape(p)}</p>' for p in reg["problems"])
    elif kind == "record_of_processing":
        for section in r["controllers"]:
            c, cat = section["controller"], section["catalog"]
            out.append(f"<h2>{escape(c['name'])} ({escape(c['id'])})</h2>")
            out.append(
                _chips(
                    {
                        "role": c["role"],
                        "catalog": cat["version"],
                        "effective from": cat["effective_from"],
                        **section["observed"],
                    }
                )
            )
            contact = section["contact"]
            out.append(
                _chips({k: contact[k] for k in ("address", "phone", "email", "dpo")})
            )  # Art. 30(1)(a)
            out.append(f"<p>Data subjects: {escape(section['data_subjects']['text'])}</p>")
            out.append(f"<p>Security measures: {escape(section['security']['text'])}</p>")
            out.extend(
                f"<p>« {escape(d['quote'])} » <i>({escape(d['kind'])})</i></p>"
                for d in section["declarations"]
            )
    elif kind == "subject_access":
        out.extend(_access_figure(r))
    elif kind == "legal_basis":
        out.extend(_basis_figure(r))
    return out


def _figure(rows: list[TimelineRow], end: str, title: str) -> list[str]:
    if not rows:
        return ['<p class="empty">Nothing to draw: no purpose facts by T.</p>']
    points = [s["from"] for row in rows for s in row.segments]
    points += [f["occurred_at"] for row in rows for f in row.facts]
    finish = datetime.fromisoformat(end)
    start = min((datetime.fromisoformat(p) for p in points), default=finish)
    margin = max((finish - start) / 40, timedelta(hours=1))
    svg = timeline_svg(rows, start - margin, finish, title)
    return [f"<h2>{escape(title)}</h2>", f"<figure>{svg}</figure>"]


def _verdicts(processing: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {j["event_id"]: (j["verdict_then"], j["verdict_now"]) for j in processing}


def _access_figure(r: dict[str, Any]) -> list[str]:
    rows = [
        TimelineRow(
            f"{p['controller']} / {p['purpose']}",
            p["timeline"],
            p["facts"],
            _verdicts(p["processing"]),
        )
        for p in r["purposes"]
    ]
    return _figure(rows, r["at"], "Consents and legal bases over time")


def _basis_figure(r: dict[str, Any]) -> list[str]:
    subjects = r["subjects"][:MAX_FIGURE_ROWS]
    rows = [
        TimelineRow(
            s["subject_id"][:16] + "…", s["timeline"], s["facts"], _verdicts(s["processing"])
        )
        for s in subjects
    ]
    out = _figure(rows, r["at"], f"Legal basis of {r['purpose']['id']} over time")
    if len(r["subjects"]) > MAX_FIGURE_ROWS:
        out.append(
            f'<p class="empty">The figure shows the first {MAX_FIGURE_ROWS} subjects; '
            "the tables list them all.</p>"
        )
    return out


def _table(table: Table) -> list[str]:
    out = [f"<h3>{escape(table.title)}</h3>"]
    if not table.rows:
        return [*out, '<p class="empty">none</p>']
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in table.columns)
    lines = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    for row in table.rows:
        cells = []
        for column in table.columns:
            text = cell(row.get(column))
            css = (
                ' class="withheld"'
                if text in ("[withheld]", "[erased]")
                else ' class="unlawful"'
                if text == "unlawful" or (column == "status" and text == "overdue")
                else ""
            )
            cells.append(f"<td{css}>{escape(text)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table></div>")
    return [*out, "".join(lines)]
