"""How ``pdl`` ends: the one table from kinds of error to exit codes.

- 0: done;
- 1: the ledger answered no — refused, not found, evidence did not verify;
- 2: the command could not be carried out as given — a malformed option or request, a
  setting to fix, a backend out of reach, or state to repair first (``pdl rebuild``);
- 130: interrupted (Ctrl-C).

A class maps to the code of its nearest listed ancestor, so an adapter's own subclass
(``LogError``, ``KeyStoreError``) needs no row of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ledger.errors import (
    ConfigError,
    Conflict,
    IntegrityError,
    InvalidRequest,
    LedgerError,
    NotFound,
    Refused,
    Unavailable,
)

OK = 0
ANSWERED_NO = 1
CANNOT_RUN = 2
INTERRUPTED = 130

EXIT_CODES: Mapping[type[LedgerError], int] = MappingProxyType(
    {
        Refused: ANSWERED_NO,
        NotFound: ANSWERED_NO,
        IntegrityError: ANSWERED_NO,
        InvalidRequest: CANNOT_RUN,
        ConfigError: CANNOT_RUN,
        Unavailable: CANNOT_RUN,
        Conflict: CANNOT_RUN,
        LedgerError: ANSWERED_NO,
    }
)


def _every_kind_is_listed() -> None:
    """A kind added to ledger/errors.py without a row here would exit as the root does
    (1): refuse to start instead, so the omission cannot ship unnoticed."""
    kinds = [k for k in LedgerError.__subclasses__() if k.__module__ == LedgerError.__module__]
    missing = sorted(k.__name__ for k in kinds if k not in EXIT_CODES)
    if missing:
        raise ImportError(f"ledger/cli/exits.py: no exit code for {', '.join(missing)}")


_every_kind_is_listed()


def exit_code(exc: LedgerError) -> int:
    """The exit code for an error: that of the most specific class the table lists."""
    return next(EXIT_CODES[c] for c in type(exc).__mro__ if c in EXIT_CODES)
