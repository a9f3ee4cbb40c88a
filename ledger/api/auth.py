"""Bearer tokens and the roles they grant, from the settings.

``PDL_API_TOKENS`` holds ``token=role`` entries separated by commas; the file named by
``PDL_API_TOKENS_FILE`` holds the same, one or more per line, ``#`` starting a comment.
Both may be set; their entries add up. Roles:

- ``dpo``: every report, personal fields decrypted, and the metrics;
- ``regulator``: every report, personal fields shown as ``[withheld]``;
- ``ops``: the metrics only;
- ``emitter``: appends events (``POST /v1/events``), nothing else.

A token is scoped to controllers with ``token=role:controller1+controller2`` (``+``,
since commas separate entries); ``token=role:*`` means every controller. A scoped token
writes only events whose ``controller`` is in its scope, and reads only reports asked
for one controller of its scope. Without a scope, ``dpo``, ``regulator`` and ``ops``
keep their meaning from before scopes existed (every controller: a DPO's or a
regulator's reports span controllers), while an ``emitter`` token without a scope is
refused at start-up: a producer writes for named controllers, or for ``*`` explicitly.

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
    emitter = "emitter"


#: The scope of every controller (``token=role:*``, or an unscoped dpo/regulator/ops).
EVERY_CONTROLLER = "*"


@dataclass(frozen=True)
class Grant:
    """What one token grants: a role, and the controllers it may write or read
    (``None``: every controller)."""

    role: Role
    controllers: frozenset[str] | None = None

    def covers(self, controller: str | None) -> bool:
        """Whether the token may write or read ``controller``'s data; ``None`` (a request
        about no one controller) only for a token of every controller."""
        if self.controllers is None:
            return True
        return controller is not None and controller in self.controllers


class TokenConfigError(ConfigError):
    """The token configuration is unusable; the message says where and how to fix it,
    and never quotes a token."""


@dataclass(frozen=True)
class Tokens:
    entries: tuple[tuple[bytes, Grant], ...]

    def role_of(self, presented: str | None) -> Role | None:
        """The role a presented token grants, or None. Every entry is compared."""
        grant = self.grant_of(presented)
        return None if grant is None else grant.role

    def grant_of(self, presented: str | None) -> Grant | None:
        """The role and scope a presented token grants, or None. Every entry is compared."""
        if not presented:
            return None
        candidate = presented.encode("utf-8")
        found: Grant | None = None
        for token, grant in self.entries:
            if hmac.compare_digest(token, candidate):
                found = grant
        return found

    def __repr__(self) -> str:  # never show the tokens
        return f"Tokens(<{len(self.entries)} configured>)"


def parse_tokens(text: str, source: str) -> list[tuple[bytes, Grant]]:
    """``token=role`` or ``token=role:controller+controller`` entries separated by commas
    or new lines; ``#`` starts a comment."""
    found = []
    number = 0
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            entry = entry.strip()
            if not entry:
                continue
            number += 1
            token, sep, granted = entry.rpartition("=")
            role, scoped, scope = granted.partition(":")
            token, role = token.strip(), role.strip()
            where = f"{source}: entry {number}"
            if not sep or not token:
                raise TokenConfigError(f"{where} is not token=role — fix: e.g. <token>=dpo")
            if role not in Role.__members__:
                raise TokenConfigError(
                    f"{where}: unknown role {role!r} — fix: use dpo, regulator, ops or emitter"
                )
            if len(token) < MIN_TOKEN_LENGTH:
                raise TokenConfigError(
                    f"{where}: the token is shorter than {MIN_TOKEN_LENGTH} characters — fix: "
                    "generate one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())'"
                )
            grant = Grant(Role(role), _controllers(scope, where) if scoped else None)
            if grant.role is Role.emitter and not scoped:
                raise TokenConfigError(
                    f"{where}: an emitter token needs a scope — fix: "
                    "<token>=emitter:<controller>[+<controller>...] (or emitter:* for all)"
                )
            found.append((token.encode("utf-8"), grant))
    return found


def _controllers(scope: str, where: str) -> frozenset[str] | None:
    names = [name.strip() for name in scope.split("+")]
    if names == [EVERY_CONTROLLER]:
        return None
    if not all(names) or EVERY_CONTROLLER in names:
        raise TokenConfigError(
            f"{where}: the scope after ':' is not controller+controller — fix: e.g. "
            "<token>=emitter:informatique70+negomarkets, or <token>=emitter:*"
        )
    return frozenset(names)


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
