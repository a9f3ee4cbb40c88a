"""The timeline figure: one row per purpose (or subject), the legal basis over valid time
as coloured bars, and the facts on it — consent given ▲, withdrawn ▼, objection ✕,
restriction ■, processing ● (hollow red when lawful as known then but unlawful as known
now). Plain SVG drawn here, inline in the HTML: no library, no script."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

BASIS_COLOURS = {
    "consent": "#2e7d32",
    "contract": "#1565c0",
    "legal_obligation": "#6a1b9a",
    "legitimate_interest": "#00838f",
    "public_task": "#ef6c00",
    "vital_interests": "#ad1457",
}
UNLAWFUL = "#c62828"
WIDTH, LABEL, RIGHT, ROW, TOP, AXIS, LEGEND = 1100, 240, 24, 38, 12, 34, 64


@dataclass(frozen=True)
class TimelineRow:
    label: str
    segments: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    verdicts: dict[str, tuple[str, str]]  # processing event id → (then, now)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class _Scale:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, max(end, start + timedelta(days=1))

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        fraction = min(max((at - self.start).total_seconds() / span, 0.0), 1.0)
        return round(LABEL + fraction * (WIDTH - LABEL - RIGHT), 2)


def timeline_svg(rows: list[TimelineRow], start: datetime, end: datetime, title: str) -> str:
    """An SVG document fragment; ``start``/``end`` bound the valid-time axis."""
    scale = _Scale(start, end)
    height = TOP + ROW * len(rows) + AXIS + LEGEND
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<defs><pattern id="nobasis" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fbe9e7"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{UNLAWFUL}" stroke-width="2"/>'
        "</pattern></defs>",
    ]
    for i, row in enumerate(rows):
        parts.extend(_row(row, TOP + i * ROW, scale))
    parts.extend(_axis(scale, TOP + ROW * len(rows)))
    parts.extend(_legend(TOP + ROW * len(rows) + AXIS))
    parts.append("</svg>")
    return "\n".join(parts)


def _row(row: TimelineRow, y: int, scale: _Scale) -> list[str]:
    label = row.label if len(row.label) <= 34 else row.label[:33] + "…"
    out = [
        f'<text x="8" y="{y + 22}" class="label">{escape(label)}</text>',
        f'<line x1="{LABEL}" y1="{y + 18}" x2="{WIDTH - RIGHT}" y2="{y + 18}" stroke="#cfd8dc"/>',
    ]
    for seg in row.segments:
        x0, x1 = scale.x(_at(seg["from"])), scale.x(_at(seg["to"]))
        fill = BASIS_COLOURS.get(seg["basis"] or "", "url(#nobasis)")
        basis = seg["basis"] or "no basis"
        out.append(
            f'<rect x="{x0}" y="{y + 11}" width="{max(x1 - x0, 1.0):.2f}" height="14" '
            f'fill="{fill}" opacity="0.85"><title>{escape(basis)} from {seg["from"]} to '
            f"{seg['to']}: {escape(seg['reason'])}</title></rect>"
        )
    for fact in row.facts:
        out.append(_marker(fact, scale.x(_at(fact["occurred_at"])), y + 18, row.verdicts))
    return out


def _marker(fact: dict[str, Any], x: float, y: int, verdicts: dict[str, tuple[str, str]]) -> str:
    kind = fact["kind"]
    tip = (
        f"{kind}: valid {fact['occurred_at']}, recorded {fact['recorded_at']}, "
        f"event {fact['event_id']} at {fact['position']}"
    )
    if kind == "consent_given":
        shape = f'<polygon points="{x - 6},{y + 5} {x + 6},{y + 5} {x},{y - 7}" fill="#1b5e20"'
    elif kind == "consent_withdrawn":
        shape = f'<polygon points="{x - 6},{y - 5} {x + 6},{y - 5} {x},{y + 7}" fill="{UNLAWFUL}"'
    elif kind == "objection":
        shape = (
            f'<path d="M{x - 5},{y - 5} L{x + 5},{y + 5} M{x + 5},{y - 5} L{x - 5},{y + 5}" '
            f'stroke="{UNLAWFUL}" stroke-width="3"'
        )
    elif kind in ("restricted", "unrestricted"):
        fill = "#ef6c00" if kind == "restricted" else "#ffffff"
        shape = (
            f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="{fill}" stroke="#ef6c00"'
        )
    else:
        then, now = verdicts.get(fact["event_id"], ("lawful", "lawful"))
        tip += f"; {then} as known then, {now} as known now"
        if now == "lawful":
            style = 'fill="#212121" stroke="#ffffff"'
        elif then == "lawful":
            style = f'fill="#ffffff" stroke="{UNLAWFUL}" stroke-width="3"'
        else:
            style = f'fill="{UNLAWFUL}" stroke="#ffffff"'
        shape = f'<circle cx="{x}" cy="{y}" r="6" {style}'
    return f"{shape}><title>{escape(tip)}</title></{shape.split()[0][1:]}>"


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    days = (end - start).days
    if days <= 21:
        first = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
        step = 1 if days <= 10 else 2
        points = [first + timedelta(days=i) for i in range(0, days + 1, step)]
        return [(p, p.strftime("%d %b")) for p in points if p <= end]
    if days <= 120:
        first = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=1)
        points = [first + timedelta(days=i) for i in range(0, days + 1, 7)]
        return [(p, p.strftime("%d %b")) for p in points if p <= end]
    months = 1 if days <= 800 else 3 if days <= 2200 else 12
    found: list[tuple[datetime, str]] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        point = datetime(year, month, 1, tzinfo=UTC)
        if point > end:
            return found
        if (month - 1) % months == 0:
            found.append((point, point.strftime("%b %Y" if months < 12 else "%Y")))


def _axis(scale: _Scale, y: int) -> list[str]:
    out = [f'<line x1="{LABEL}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#455a64"/>']
    for at, text in _ticks(scale.start, scale.end):
        x = scale.x(at)
        out.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 5}" stroke="#455a64"/>')
        out.append(f'<text x="{x}" y="{y + 18}" class="tick">{escape(text)}</text>')
    out.append(
        f'<text x="{LABEL}" y="{y + 32}" class="note">valid time (when it happened), '
        f"{scale.start.date().isoformat()} to {scale.end.date().isoformat()}</text>"
    )
    return out


def _legend(y: int) -> list[str]:
    items = [(name.replace("_", " "), colour) for name, colour in BASIS_COLOURS.items()]
    items.append(("no basis", "url(#nobasis)"))
    out = []
    x = LABEL
    for name, colour in items:
        out.append(f'<rect x="{x}" y="{y + 8}" width="14" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 18}" y="{y + 17}" class="tick-left">{escape(name)}</text>')
        x += 34 + 7 * len(name)
    out.append(
        f'<text x="{LABEL}" y="{y + 40}" class="note">▲ consent given  ▼ withdrawn  ✕ objection'
        "  ■ restriction  ● processing (red: unlawful; hollow red: lawful as known then, "
        "unlawful as known now)</text>"
    )
    return out
