"""A small HTTP client of ``pdl serve`` for remote producers and readers, on the standard
library alone (it imports nothing of the ledger: copy this file into a producer if
that is simpler than installing the package).

    from ledger.client import LedgerClient

    client = LedgerClient("http://127.0.0.1:8080", token="...")
    receipts = client.emit([{"type": "ConsentGiven", "subject": "camille@example.fr", ...}])
    ropa = client.report("ropa", controller="informatique70")

``emit`` sends one batch (all-or-nothing; a retry with the same event ids appends
nothing again, so a failed call may simply be repeated). An answer other than 2xx is a
``LedgerHTTPError`` carrying the status and the server's ``detail`` (for a refused batch,
every problem by index, field, rule and fix).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LedgerClient", "LedgerHTTPError"]


class LedgerHTTPError(Exception):
    """The server said no: ``status`` and its ``detail`` (a text, or a list of problems)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


class LedgerClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def emit(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Append events as one batch: ``{"appended", "duplicates", "receipts"}``."""
        body = json.dumps(list(events)).encode("utf-8")
        answer: dict[str, Any] = self._call("POST", "/v1/events", body)
        return answer

    def report(self, kind: str, **query: str | None) -> dict[str, Any]:
        """A report as JSON: ``kind`` and its parameters (subject, purpose, controller,
        at, known_at), as ``GET /reports/{kind}`` takes them."""
        given = {k: v for k, v in query.items() if v is not None}
        path = f"/reports/{urllib.parse.quote(kind)}?" + urllib.parse.urlencode(given)
        answer: dict[str, Any] = self._call("GET", path)
        return answer

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw)["detail"]
            except (ValueError, KeyError, TypeError):
                detail = raw.decode("utf-8", "replace")
            raise LedgerHTTPError(exc.code, detail) from None

    def __repr__(self) -> str:  # never show the token
        return f"LedgerClient({self.base_url!r})"
