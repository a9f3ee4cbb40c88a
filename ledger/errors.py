"""Errors a user can act on, raised by the service layer and printed by the CLI."""

from __future__ import annotations


class Failure(Exception):
    """A command failed for a reason the user can act on; printed without a traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
