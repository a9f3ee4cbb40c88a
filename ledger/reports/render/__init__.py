"""A report as bytes: canonical JSON, CSV or self-contained HTML.

JSON is canonical (``report_text`` in ``ledger/contract/canonical.py``: sorted keys, no
spaces, UTF-8, one final newline), so the same report gives the same bytes. CSV is RFC
4180 after a few ``#`` lines stating the report, T, K and the log positions; a report
with several tables gets a first column ``table`` naming the table each row belongs to;
a cell that a spreadsheet could take for a formula gets a leading ``'`` (``csv_cell``).
HTML needs nothing but itself: inline CSS and SVG, no script, no font, no network.
"""

from __future__ import annotations

import csv
import io
from enum import Enum
from typing import Any

from ledger.contract.canonical import report_text
from ledger.reports.render.html import report_html
from ledger.reports.render.tables import Table, csv_cell, report_tables


class ReportFormat(str, Enum):  # noqa: UP042 (str() of members must not change)
    json = "json"
    csv = "csv"
    html = "html"


MEDIA_TYPES = {
    ReportFormat.json: "application/json",
    ReportFormat.csv: "text/csv; charset=utf-8",
    ReportFormat.html: "text/html; charset=utf-8",
}


def render(report: dict[str, Any], fmt: ReportFormat) -> bytes:
    if fmt is ReportFormat.json:
        return report_text(report).encode("utf-8")
    if fmt is ReportFormat.csv:
        return report_csv(report).encode("utf-8")
    return report_html(report).encode("utf-8")


def preamble(report: dict[str, Any]) -> list[str]:
    """What the report is, as of when, as known when, and from which log positions."""
    parameters = " ".join(f"{k}={v}" for k, v in sorted(report["parameters"].items()) if v)
    positions = " ".join(f"{k}={v}" for k, v in report["positions"].items())
    return [
        f"# report: {report['report']} ({report['title']}, {report['article']})",
        f"# at: {report['at']}",
        f"# known_at: {report['known_at'] or 'null (everything up to the positions)'}",
        f"# positions: {positions or '(empty log)'}",
        f"# personal_fields: {report['personal_fields']}",
        f"# parameters: {parameters or '-'}",
    ]


def report_csv(report: dict[str, Any]) -> str:
    tables = report_tables(report)
    out = io.StringIO()
    out.write("\n".join(preamble(report)) + "\n")
    writer = csv.writer(out, lineterminator="\r\n")
    if len(tables) == 1:
        writer.writerow(tables[0].columns)
        for row in tables[0].rows:
            writer.writerow([csv_cell(row.get(c)) for c in tables[0].columns])
        return out.getvalue()
    columns = _union(tables)
    writer.writerow(["table", *columns])
    for table in tables:
        for row in table.rows:
            writer.writerow([table.name, *(csv_cell(row.get(c)) for c in columns)])
    return out.getvalue()


def _union(tables: list[Table]) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        seen.update(dict.fromkeys(table.columns))
    return list(seen)
