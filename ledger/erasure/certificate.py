"""Erasure certificates: canonical JSON, signed with Ed25519, chained by SHA-256.

A certificate is one JSON object in canonical form (``certificate_text``: sorted keys,
no spaces, ASCII), so it has exactly one byte representation; that text is what
``DataErased.certificate`` carries. ``signature`` is Ed25519 over the canonical text of
every other field, by the key named in ``signer``. ``previous_sha256`` is the SHA-256
of the previous certificate's full text (``GENESIS`` for the first; both in
``ledger/contract/certificate_chain.py``), so the register is a hash chain: changing,
removing or reordering any certificate breaks a signature or a link.

Certificates name keys by id and public fingerprint, subjects by pseudonymous id, data
by log position: never key material and never a personal value. ``subject_partitions``
(``ledger.erasure.following``) states, per event topic, the range of the subject's
partition the erasure read and the count and SHA-256 of the subject's records in it;
certificates issued before it lack it and are verified by a full scan.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ledger.contract.canonical import certificate_text
from ledger.erasure.signing import SigningKey

FORMAT = "pdl-erasure-certificate/1"
ALGORITHM = "Ed25519"

Certificate = dict[str, Any]


def signed_part(doc: Mapping[str, Any]) -> bytes:
    """The bytes the signature covers: the canonical text without ``signature``."""
    return certificate_text({k: v for k, v in doc.items() if k != "signature"}).encode("ascii")


def sign(body: Mapping[str, Any], signer: SigningKey) -> str:
    """The signed certificate text for ``body``."""
    unsigned = {**body, "signer": {"algorithm": ALGORITHM, "key_id": signer.key_id}}
    signature = signer.sign(signed_part(unsigned))
    signed = {**unsigned, "signature": base64.b64encode(signature).decode("ascii")}
    return certificate_text(signed)


def render(doc: Mapping[str, Any]) -> str:
    """The certificate for people: what was erased, what was kept and why, the proof."""
    erased = doc.get("erased", {})
    request = doc.get("request", {})
    lines = [
        f"ERASURE CERTIFICATE #{doc.get('sequence')}   ({doc.get('format')})",
        f"certificate  {doc.get('certificate_id')}",
        f"subject      {doc.get('subject_id')}",
        f"controller   {doc.get('controller')}",
        f"scope        {doc.get('scope')}   reason: {doc.get('reason')}",
        f"requested    {request.get('requested_at')}   (request {request.get('event_id')} "
        f"at {request.get('position')})",
        f"erased at    {doc.get('erased_at')}",
        "",
        f"erased       retention classes: {', '.join(erased.get('retention_classes', [])) or '-'}",
        f"             purposes: {', '.join(erased.get('purposes', [])) or '-'}",
        f"keys destroyed ({len(erased.get('keys_destroyed', []))})",
    ]
    for key in erased.get("keys_destroyed", []):
        lines.append(
            f"  {key['retention_class']:<20} key {key['key_id']}  fingerprint {key['fingerprint']}"
        )
    mapping = "yes" if erased.get("identity_mapping_destroyed") else "no"
    fenced = "yes" if erased.get("subject_fenced") else "no"
    lines += [
        f"identifier mapping destroyed: {mapping}; subject id fenced: {fenced}",
        f"records made unreadable ({len(erased.get('positions', []))}, "
        f"{erased.get('fields', 0)} personal fields): "
        + (", ".join(erased.get("positions", [])) or "-"),
        "",
        "retained (Art. 17(3))" if doc.get("retained") else "retained     nothing",
    ]
    for kept in doc.get("retained", []):
        lines.append(
            f"  {kept['retention_class']} (purposes {', '.join(kept['purposes']) or '-'}; "
            f"{len(kept['positions'])} records)"
        )
        for ground in kept["grounds"]:
            until = ground["expires"] or "until released / anchor not yet recorded"
            lines.append(f"    {ground['article']}  {ground['ground']}  until {until}")
            lines.append(f"      {ground['reason']} [{ground['source']}]")
    if doc.get("not_held"):
        lines.append(f"no key held   {', '.join(doc['not_held'])} (erased earlier or never used)")
    parts = doc.get("subject_partitions") or []
    if parts:
        lines += ["", "subject's records as read from the log (count, SHA-256; see verify-erasure)"]
    for part in parts:
        lines.append(
            f"  {part['topic']}[{part['partition']}] offsets {part['first_offset']}.."
            f"{part['end_offset'] - 1}: {part['count']} record(s)  sha256 {part['records_sha256']}"
        )
    lines += ["", *(f"note: {n}" for n in doc.get("notes", []))]
    signer = doc.get("signer", {})
    lines += [
        f"chain        previous sha256 {doc.get('previous_sha256')}",
        f"signed       {signer.get('algorithm')} key {signer.get('key_id')}",
    ]
    return "\n".join(lines)
