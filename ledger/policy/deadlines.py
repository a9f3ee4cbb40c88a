"""The deadlines the GDPR sets on answering a data subject. Pure: no clock, no I/O.

GDPR Art. 12(3): a request about the subject's rights is answered "without undue delay
and in any event within one month of receipt of the request. That period may be
extended by two further months where necessary". Months are calendar months, counted as
``ledger.policy.calendar`` counts them (Regulation 1182/71) in the controller's time
zone: a request received on 31 January is due when the last day of February has ended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ledger.policy.calendar import add_period
from ledger.policy.catalog import Catalogs

#: Art. 12(3): one month from receipt.
ANSWER_WITHIN = "P1M"
#: Art. 12(3): "extended by two further months": three months from receipt.
EXTENDED_WITHIN = "P3M"

_UTC = ZoneInfo("UTC")


def answer_due(requested_at: datetime, zone: ZoneInfo, extended: bool = False) -> datetime:
    """When a request received at ``requested_at`` must have been answered (Art. 12(3)),
    read in the controller's ``zone``; three months from receipt once ``extended``."""
    # counted from receipt, not from the first deadline: three months from 31 January
    # end with 30 April, where two months from the end of 28 February would end with 28 April
    due = add_period(requested_at, EXTENDED_WITHIN if extended else ANSWER_WITHIN, zone)
    return due.astimezone(UTC)


def controller_zone(catalogs: Catalogs, controller: str, at: datetime) -> ZoneInfo:
    """The time zone the controller's catalog in force at ``at`` reads dates in (its
    earliest catalog before it had one; UTC for a controller with none)."""
    catalog = catalogs.in_force(controller, at) or catalogs.earliest(controller)
    return _UTC if catalog is None else catalog.controller.zone
