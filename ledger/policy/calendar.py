"""Calendar time: when a retention period that a notice states in months, years, days or
hours runs out, as the notice's reader counts it. Pure: no clock, no I/O.

A catalog writes durations as ISO 8601 periods (``P13M``, ``P3Y``, ``P120D``, ``PT48H``)
and they are applied in two ways, never mixed in one period:

- **Years and months are calendar periods**, counted as Regulation (EEC, Euratom)
  No 1182/71 determining the rules applicable to periods, dates and time limits counts
  them. Art. 3(1): the day during which the event occurs is not part of the period.
  Art. 3(2)(c): such a period ends "with the expiry of the last hour of whichever day in
  the last week, month or year is the same day of the week, or falls on the same date, as
  the day from which the period runs", and if that day "does not occur in the last month,
  the period shall end with the expiry of the last hour of the last day of that month". So
  13 months from a complaint received on 16 January 2025 end when 16 February 2026 has
  expired, and one month from 31 January ends when the last day of February has expired.
  The date is read in the controller's time zone (a catalog field): a notice of La Poste
  promises French dates, and 16 February ends at midnight in Paris, not in London.
- **Weeks, days, hours, minutes and seconds are elapsed time**: "48 heures à partir du
  moment où l'impayé a été effectivement soldé" is 48 hours from that instant, "120 jours
  après la transaction" is 120 × 24 hours, whatever the clocks do in between.

The instant returned for a calendar period is the **end of the last day**: the first
instant of the next day in the controller's zone. Of the two readings a deadline could
take (the same time of day on that date, or the end of that date) it is the Regulation's
("the expiry of the last hour") and the one that never acts *before* the promised date
has fully run: data a law requires keeping 10 years (invoices) is still required on the
last day of the tenth year until that day ends, and data promised to be kept "13 mois"
at most is erased as that last day ends, not later. Art. 3(4) (a period ending on a
holiday runs to the next working day) is not applied: it would keep data beyond the date
the notice promises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

_PERIOD = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True)
class Period:
    """An ISO 8601 period, split into its calendar part and its elapsed part (at most one
    of them is not zero)."""

    years: int
    months: int
    elapsed: timedelta

    @property
    def is_calendar(self) -> bool:
        return bool(self.years or self.months)


@lru_cache(maxsize=256)  # catalogs repeat a handful of durations
def parse_period(text: str) -> Period:
    """``text`` as a Period; ValueError naming the rule and the fix if it is not one."""
    match = _PERIOD.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(
            f"duration {text!r} is not an ISO 8601 period of whole numbers "
            "like P3Y, P13M, P2W, P60D or PT48H"
        )
    n = {name: int(value or 0) for name, value in match.groupdict().items()}
    elapsed = timedelta(
        weeks=n["weeks"],
        days=n["days"],
        hours=n["hours"],
        minutes=n["minutes"],
        seconds=n["seconds"],
    )
    if (n["years"] or n["months"]) and elapsed:
        raise ValueError(
            f"duration {text!r} mixes calendar units (years, months) with elapsed ones "
            "(weeks, days, hours...): write it in one kind, e.g. P13M or P400D"
        )
    return Period(n["years"], n["months"], elapsed)


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Paris``); ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. "Europe"
        raise ValueError(
            f"time zone {name!r} is not an IANA time zone name like Europe/Paris"
        ) from None


def add_period(instant: datetime, period: str, zone: ZoneInfo) -> datetime:
    """When ``period`` (ISO 8601) counted from ``instant`` has run out, in ``zone``.

    Years and months: the end of the day with the same date in the last month (or of
    that month's last day when it has no such date), in ``zone`` — Regulation 1182/71,
    Art. 3(1) and 3(2)(c); the result is the first instant of the following day, so
    ``due <= now`` holds only once the whole promised date is over. Weeks, days, hours,
    minutes, seconds: that much elapsed time after ``instant``. The result is expressed
    in ``zone`` (its ISO form carries the controller's offset)."""
    if instant.utcoffset() is None:
        raise ValueError("instant needs a time zone, e.g. 2025-01-16T10:00:00+01:00")
    parsed = parse_period(period)
    if not parsed.is_calendar:
        # aware arithmetic in one zone is wall-clock arithmetic: count elapsed time in UTC
        return (instant.astimezone(UTC) + parsed.elapsed).astimezone(zone)
    # relativedelta clamps a date the last month lacks to that month's last day (Art. 3(2)(c))
    last_day = instant.astimezone(zone).date() + relativedelta(
        years=parsed.years, months=parsed.months
    )
    return _start_of(last_day + timedelta(days=1), zone)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``. Where a clock change skips midnight, the
    round trip through UTC lands on the instant the day really begins."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).astimezone(zone)
