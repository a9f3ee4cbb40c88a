"""The Python API: producers and readers in the ledger's own process.

    from ledger.api.local import open_ledger

    with open_ledger(data_dir="/var/lib/pdl") as ledger:
        ledger.emit([{"type": "ConsentGiven", "subject": "camille@example.fr", ...}])
        print(ledger.state("camille@example.fr"))

A thin face over ``ledger.service`` and ``ledger.reports``: the same calls as ``pdl emit``,
``pdl state``, ``pdl basis``, ``pdl erase`` and ``pdl report``, with the same rules
(a batch is all-or-nothing; a retried event_id appends nothing again; reads first catch
up with everything appended). Errors are ``ledger.errors.LedgerError`` kinds; a refused
batch is ``ledger.service.submission.BatchRejected``, whose ``problems`` name the index,
field, rule and fix of each. docs/INTEGRATORS.md has runnable examples.

Not thread-safe: one ``LocalLedger`` per thread (each holds its own handles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ledger.contract.base import is_subject_id
from ledger.errors import NotFound
from ledger.reports.build import ReportKind, ReportRequest, build_report
from ledger.reports.legal_basis import one_subject
from ledger.reports.reading import Audience
from ledger.service.backends import Backends
from ledger.service.erasure import carry_out, erasure_scope, request_erasure
from ledger.service.intake import Appended
from ledger.service.queries import subject_state
from ledger.service.settings import Settings
from ledger.service.submission import submit_events
from ledger.service.views import disclose_subject, resolve_subject

__all__ = ["LocalLedger", "open_ledger"]


def open_ledger(
    settings: Settings | None = None,
    *,
    data_dir: str | Path | None = None,
    log: str | None = None,
    store: str | None = None,
) -> LocalLedger:
    """A ledger for this process: ``settings``, or settings from the environment
    (``PDL_*``, as the ``pdl`` command reads them) with ``data_dir``, ``log``
    (``kafka://HOST:PORT``) and ``store`` (``postgresql://...``) given here winning."""
    if settings is None:
        settings = Settings.from_environment(log, data_dir, store=store)
    return LocalLedger(Backends(settings))


class LocalLedger:
    """One ledger's producers' and readers' calls; ``close()`` it, or use ``with``."""

    def __init__(self, backends: Backends) -> None:
        self._backends = backends

    def emit(self, events: Iterable[Mapping[str, Any]]) -> list[Appended]:
        """Append events (dicts as in docs/EVENTS.md) as one batch, or none: every one
        is validated first. One receipt per event, in order; ``duplicate`` marks an
        event_id the ledger already held (a retry), not appended again."""
        ledger = self._backends
        ledger.current_catalogs()  # versions published since count too
        return submit_events(ledger.intake(), [dict(e) for e in events])

    def subject_id(self, subject: str, controller: str | None = None) -> str:
        """The pseudonymous id (``sub_…``) of a subject id, or of a natural identifier at
        ``controller`` (needed when several controllers know it: each has its own id)."""
        if is_subject_id(subject):
            return subject
        return resolve_subject(self._backends.keys, subject, controller)

    def state(self, subject: str, controller: str | None = None) -> dict[str, Any]:
        """What is held on a subject now, decrypted, as ``pdl state --json`` prints it."""
        subject_id = self.subject_id(subject, controller)
        self._backends.catch_up()
        held = subject_state(self._backends, subject_id)
        if held is None:
            raise NotFound(f"{subject_id}: no events recorded for this subject")
        return disclose_subject(held, self._backends.keys)

    def basis(
        self,
        subject: str,
        purpose: str,
        controller: str | None = None,
        at: datetime | None = None,
        known_at: datetime | None = None,
    ) -> dict[str, Any]:
        """The legal basis for one subject and purpose at ``at``, as ``pdl basis --json``."""
        request = ReportRequest(
            ReportKind.basis,
            subject_id=self.subject_id(subject, controller),
            purpose=purpose,
            controller=controller,
            at=at,
            known_at=known_at,
        )
        return one_subject(build_report(self._backends, request))

    def report(
        self,
        kind: str,
        *,
        subject: str | None = None,
        purpose: str | None = None,
        controller: str | None = None,
        at: datetime | None = None,
        known_at: datetime | None = None,
        withheld: bool = False,
    ) -> dict[str, Any]:
        """A report of ``pdl report`` (kinds: ``ledger.reports.build.ReportKind``), as a
        dict; ``withheld`` shows personal fields as ``[withheld]``, as a regulator sees."""
        request = ReportRequest(
            ReportKind(kind),
            subject_id=None if subject is None else self.subject_id(subject, controller),
            purpose=purpose,
            controller=controller,
            at=at,
            known_at=known_at,
            audience=Audience.regulator if withheld else Audience.dpo,
        )
        self._backends.current_catalogs()  # versions published since count too
        return build_report(self._backends, request)

    def erase(
        self,
        subject: str,
        reason: str,
        *,
        purpose: str | None = None,
        category: str | None = None,
        controller: str | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """Erase a subject's data (all of it, or one purpose's or category's) as
        ``pdl erase`` does, and return the signed certificate."""
        ledger = self._backends
        subject_id = self.subject_id(subject, controller)
        scope = erasure_scope(purpose, category)
        request = request_erasure(ledger, subject_id, reason, scope, controller, channel)
        return dict(carry_out(ledger, request))

    def close(self) -> None:
        self._backends.close()

    def __enter__(self) -> LocalLedger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
