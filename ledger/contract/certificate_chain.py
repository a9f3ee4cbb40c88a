"""The erasure register's hash chain: each certificate names the SHA-256 of the one
before it, the first names ``GENESIS``.

In the contract because two readers follow the chain independently: the erasure
domain, which links and verifies certificates, and the processor's projection of the
chain head, which may not import the erasure domain.
"""

from __future__ import annotations

import hashlib

#: What the first certificate names as its predecessor.
GENESIS = "0" * 64


def certificate_sha256(text: str) -> str:
    """The chain hash of a certificate: SHA-256 of its stored text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
