"""Instants as users write them: on the command line, in API queries.

One meaning everywhere: an ISO 8601 instant with a zone (``2024-03-12T09:30:00Z``,
``2024-03-12T11:30+02:00``), or a date alone, meaning 00:00 UTC that day
(``2024-03-12``). A date and time without a zone is refused: guessing its zone would
move the answer by hours, and a legal basis can change in that time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.errors import InvalidRequest

EXAMPLE = "2024-03-12 (00:00 UTC that day) or 2024-03-12T09:30:00Z"


def parse_instant(text: str, field: str) -> datetime:
    """The instant ``text`` names, in the zone it was written in; ``field`` is the option
    or query parameter it came from, named in the error (the text itself is not repeated:
    it may be anything a user pasted)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"{field} is not an ISO 8601 instant", fix=f"write e.g. {EXAMPLE}", field=field
        ) from None
    if value.tzinfo is None:
        raise InvalidRequest(
            f"{field} has no time zone",
            fix="add Z or +02:00, or give a date alone for 00:00 UTC",
            field=field,
        )
    return value
