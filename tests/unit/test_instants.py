"""One meaning for an instant a user writes: a zone, or a date alone (00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.contract.instants import parse_instant
from ledger.errors import InvalidRequest


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("2026-12-31", datetime(2026, 12, 31, tzinfo=UTC)),
        ("2024-03-12T09:30:00Z", datetime(2024, 3, 12, 9, 30, tzinfo=UTC)),
        ("2024-04-12T08:00Z", datetime(2024, 4, 12, 8, 0, tzinfo=UTC)),
        (
            "2024-03-12T11:30+02:00",
            datetime(2024, 3, 12, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_a_zone_or_a_date_alone_is_an_instant(text: str, meant: datetime) -> None:
    assert parse_instant(text, "--at") == meant


def test_a_time_without_a_zone_is_refused_with_the_fix() -> None:
    with pytest.raises(InvalidRequest, match="has no time zone") as refused:
        parse_instant("2024-03-12T09:30", "--until")
    assert refused.value.field == "--until" and "add Z" in str(refused.value)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-45", ""])
def test_what_is_not_iso_8601_names_the_field_not_the_value(text: str) -> None:
    with pytest.raises(InvalidRequest, match="at is not an ISO 8601 instant") as refused:
        parse_instant(text, "at")
    assert "fix: write e.g. 2024-03-12" in str(refused.value)
    assert not text or text not in str(refused.value)
