"""The deadlines the GDPR sets on answering a data subject."""

from __future__ import annotations

from datetime import datetime, timedelta

#: GDPR Art. 12(3): a request about the subject's rights (here: erasure, Art. 17) is
#: answered "without undue delay and in any event within one month of receipt of the
#: request". Counted as 30 days for now, by the erasure processor's overdue gauge and by
#: the erasure register alike.
ANSWER_WITHIN = timedelta(days=30)


def answer_due(requested_at: datetime) -> datetime:
    """When a request made at ``requested_at`` must have been answered (Art. 12(3))."""
    return requested_at + ANSWER_WITHIN
