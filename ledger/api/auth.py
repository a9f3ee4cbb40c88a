"""Bearer tokens and the roles they grant, from the settings.

``PDL_API_TOKENS`` holds ``token=role`` entries separated by commas; the file named by
``PDL_API_TOKENS_FILE`` holds the same, one or more per line, ``#`` starting a comment.
Both may be set; their entries add up. Roles:

- ``dpo``: every report, personal fields decrypted, and the metrics;
- ``regulator``: every report, personal fields shown as ``[withheld]``;
- ``ops``: the metrics only.

A presented token is compared with every configured one in constant time
(``hmac.compare_digest``, no early exit), and tokens never appear in a message or a log.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ledger.errors import ConfigError

MIN_TOKEN_LENGTH = 16


class Role(str, Enum):  # noqa: UP042 (str() of members must not change)
    dpo = "dpo"
    regulator = "regulator"
    ops = "ops"


class TokenConfigError(ConfigError):
    """The token configuration is unusable; the message says where and how to fix it,
    and never quotes a token."""


@dataclass(frozen=True)
class Tokens:
    entries: tuple[tuple[bytes, Role], ...]

    def role_of(self, presented: str | None) -> Role | None:
        """The role a presented token grants, or None. Every entry is compared."""
        if not presented:
            return None
        candidate = presented.encode("utf-8")
        found: Role | None = None
        for token, role in self.entries:
            if hmac.compare_digest(token, candidate):
                found = role
        return found

    def __repr__(self) -> str:  # never show the tokens
        return f"Tokens(<{len(self.entries)} configured>)"


def parse_tokens(text: str, source: str) -> list[tuple[bytes, Role]]:
    """``token=role`` entries separated by commas or new lines; ``#`` starts a comment."""
    found = []
    number = 0
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            entry = entry.strip()
            if not entry:
                continue
            number += 1
            token, sep, role = entry.rpartition("=")
            token, role = token.strip(), role.strip()
            where = f"{source}: entry {number}"
            if not sep or not token:
                raise TokenConfigError(f"{where} is not token=role — fix: e.g. <token>=dpo")
            if role not in Role.__members__:
                raise TokenConfigError(
                    f"{where}: unknown role {role!r} — fix: use dpo, regulator or ops"
                )
            if len(token) < MIN_TOKEN_LENGTH:
                raise TokenConfigError(
                    f"{where}: the token is shorter than {MIN_TOKEN_LENGTH} characters — fix: "
                    "generate one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())'"
                )
            found.append((token.encode("utf-8"), Role(role)))
    return found


def load_tokens(configured: str, configured_file: Path | None) -> Tokens:
    """Tokens from the ``PDL_API_TOKENS`` setting and the file ``PDL_API_TOKENS_FILE``
    names (the settings, ``ledger.service.settings``, pass both in)."""
    entries = parse_tokens(configured, "PDL_API_TOKENS")
    if configured_file is not None:
        try:
            text = configured_file.expanduser().read_text("utf-8")
        except OSError as exc:
            raise TokenConfigError(
                f"PDL_API_TOKENS_FILE: cannot read {configured_file}: {exc.strerror}"
            ) from None
        entries += parse_tokens(text, f"PDL_API_TOKENS_FILE {configured_file}")
    return Tokens(tuple(entries))
