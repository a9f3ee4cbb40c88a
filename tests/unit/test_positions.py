"""A log position has one written form, ``topic/partition/offset``, and reads back."""

from __future__ import annotations

import pytest

from ledger.contract.positions import LogPosition
from ledger.errors import InvalidRequest
from ledger.log.base import LogRecord


def test_a_position_is_written_and_read_back() -> None:
    record = LogRecord("pdl.consent", 3, 41, b"sub_x", b"", 0)
    position = LogPosition.of(record)
    assert str(position) == "pdl.consent/3/41"
    assert LogPosition.parse(str(position)) == position


@pytest.mark.parametrize("text", ["pdl.consent/3", "pdl.consent/x/41", "/3/41", "pdl.consent/3/"])
def test_anything_else_is_refused_with_the_form(text: str) -> None:
    with pytest.raises(InvalidRequest, match="topic/partition/offset"):
        LogPosition.parse(text)
