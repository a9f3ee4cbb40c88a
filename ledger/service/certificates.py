"""The erasure register as the ledger's users check it: against which public key, and
what its head is.

Whoever can write the data directory can replace ``signing.key`` there and sign forged
certificates with it, so verification trusts the public key pinned in the settings
(``PDL_PINNED_PUBLIC_KEY_FILE``, distributed apart from the data directory). Only when
none is pinned is the data directory's key used, with a warning saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.erasure.chain import (
    RegisterHead,
    RegisterReport,
    StoredCertificate,
    read_register,
    register_head,
    verify_register,
)
from ledger.erasure.signing import (
    SigningKeyError,
    load_public_key,
    public_key_from_pem,
    public_key_id,
)
from ledger.errors import ConfigError
from ledger.service.backends import Backends

log = logging.getLogger(__name__)

UNPINNED_WARNING = (
    "no public key is pinned (PDL_PINNED_PUBLIC_KEY_FILE): certificates are verified "
    "against the key in the data directory, which anyone able to write that directory "
    "can replace — fix: export it once (`pdl certificates public-key`), keep it apart "
    "and set PDL_PINNED_PUBLIC_KEY_FILE to it (docs/OPERATORS.md)"
)


@dataclass(frozen=True)
class RegisterKeys:
    """The public keys certificates are verified against, and whether they were pinned."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    pinned: bool = False

    @property
    def warning(self) -> str | None:
        return None if self.pinned else UNPINNED_WARNING


def register_keys(ledger: Backends) -> RegisterKeys:
    """The pinned public key, else (warned) the data directory's."""
    path = ledger.settings.pinned_public_key_file
    if path is not None:
        try:
            key = public_key_from_pem(path.read_bytes())
        except OSError as exc:
            raise ConfigError(
                f"PDL_PINNED_PUBLIC_KEY_FILE: cannot read {path}: {exc.strerror}",
                "point it at the PEM file `pdl certificates public-key` exported",
            ) from None
        except SigningKeyError as exc:
            raise ConfigError(
                f"PDL_PINNED_PUBLIC_KEY_FILE: {path}: {exc.message}",
                "point it at the PEM file `pdl certificates public-key` exported",
            ) from None
        return RegisterKeys({public_key_id(key): key}, pinned=True)
    own = load_public_key(ledger.layout.signing_key)
    return RegisterKeys({} if own is None else {public_key_id(own): own})


def stored_register(ledger: Backends) -> list[StoredCertificate]:
    return read_register(ledger.log, ledger.registry, ledger.topics)


def head(ledger: Backends) -> RegisterHead:
    """The register's head as the log holds it now."""
    return register_head(stored_register(ledger))


def verify(
    ledger: Backends,
    keys: dict[str, Ed25519PublicKey] | None = None,
    expect_head: str | None = None,
    expect_count: int | None = None,
) -> RegisterReport:
    """The register verified against ``keys`` (exported keys the caller names), else the
    pinned key (else the data directory's)."""
    trusted = keys if keys else register_keys(ledger).keys
    return verify_register(stored_register(ledger), trusted, expect_head, expect_count)
