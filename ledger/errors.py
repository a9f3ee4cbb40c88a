"""The errors a user can act on. Every error the ledger raises on purpose is a
``LedgerError``: it says what went wrong and, in ``fix``, what to do about it.

The classes say what *kind* of failure it is, not where it happened, so that each entry
point maps them once: ``ledger/cli/exits.py`` to exit codes, ``ledger/api/errors.py`` to
HTTP statuses. Ports raise ``Unavailable`` subclasses (``LogError``, ``KeyStoreError``,
``StoreError``) so that no adapter's own exception (``sqlite3.Error``, kafka-python's)
reaches an entry point.

This module imports nothing of the project: every layer may raise these.
"""

from __future__ import annotations


class LedgerError(Exception):
    """The root: a message that names what is wrong, and the fix when there is one."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message} — fix: {self.fix}"


class InvalidRequest(LedgerError):
    """An option, argument or request field is malformed or missing."""

    def __init__(self, message: str, fix: str | None = None, field: str | None = None) -> None:
        super().__init__(message, fix)
        self.field = field

    @property
    def reason(self) -> str:
        """What is wrong with the field, without its name in front (shown beside it)."""
        text = str(self)
        named = f"{self.field}: "
        return text[len(named) :] if self.field and text.startswith(named) else text


class NotFound(LedgerError):
    """What was asked about is not in the ledger (or no longer is)."""


class Refused(LedgerError):
    """The ledger will not do it: a policy, a fence or a rule forbids it."""


class Conflict(LedgerError):
    """The ledger's own state prevents it now (another run holds it, a rebuild is due)."""


class IntegrityError(LedgerError):
    """Evidence did not verify: a signature, a chain, a shredding claim."""


class ConfigError(LedgerError):
    """A setting is missing or malformed; the message says which and how to fix it."""


class Unavailable(LedgerError):
    """A backend (the log, the key store, the projection store) cannot be reached or used."""
