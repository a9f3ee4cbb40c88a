"""From a log record to a recorded event, or to the reason it cannot be one.

A record is judged on what it is, not on who appended it: the ``.avsc`` files let any
producer write to the topics, and one without the ledger's keys can only put personal
data in clear. So every personal field must be a well-formed sealed value (always
checked: it needs no key), and, when the consumer is given the key store, sealed under
a key of the record's own subject and controller. What fails goes to the dead-letter
topic with the reason and never reaches a projection.

The key store keeps no trace of a shredded key, so a key id it does not hold is taken
as shredded when the subject is recorded at the record's controller (or fenced after a
full erasure); otherwise it is unknown and refused. A rebuild on a host without the key
store checks well-formedness only (docs/OPERATORS.md, 'Who may write the topics').
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from ledger.contract.base import RECORDED
from ledger.contract.events import EVENT_TYPES, SubjectEvent
from ledger.contract.rejection import rejections_from
from ledger.contract.sealed import is_well_formed, key_id_of
from ledger.contract.walk import personal_fields
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.keys.store import KeyStore
from ledger.log.base import LogRecord
from projections.base import Recorded

#: what a reason says of a personal field in clear or malformed (``consumers.metrics``)
UNSEALED = "is not a pdl-aead-v1 sealed value"


def record_time(record: LogRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)


def decode(
    record: LogRecord, registry: SchemaRegistry, keys: KeyStore | None = None
) -> Recorded | str:
    """The recorded event, or a reason (without any of the record's content) it is bad."""
    try:
        type_name, fields = registry.decode(record.value)
    except UndecodableMessage as exc:
        return str(exc)
    model = EVENT_TYPES.get(type_name)
    if model is None:
        return f"{type_name} is not an event type"
    try:
        event = model.model_validate(fields, context=RECORDED)
    except ValidationError as exc:
        return "invalid event: " + "; ".join(str(r) for r in rejections_from(exc))
    if record.key != event.log_key.encode():
        return "message key is not the event's subject id (or controller)"
    problem = unsealed_field(event, keys)
    if problem is not None:
        return problem
    return Recorded(event, record.topic, record.partition, record.offset, record_time(record))


def unsealed_field(event: object, keys: KeyStore | None) -> str | None:
    """Why a personal field of ``event`` is not sealed by the ledger for its subject, or
    None. Names the field path and the rule, never the value."""
    if not isinstance(event, SubjectEvent):
        return None
    for path, secret in personal_fields(event):
        sealed = secret.sealed
        if sealed is None or not is_well_formed(sealed):
            return (
                f"personal field {path} {UNSEALED} (plaintext or malformed) — fix: append "
                "through the ledger (`pdl emit`, the API), which seals personal values under "
                "the subject's key"
            )
        if keys is not None:
            problem = _foreign_key(event, path, key_id_of(sealed), keys)
            if problem is not None:
                return problem
    return None


def _foreign_key(event: SubjectEvent, path: str, key_id: str, keys: KeyStore) -> str | None:
    key = keys.key_by_id(key_id)
    if key is not None:
        if key.subject_id != event.subject_id or key.controller != event.controller:
            return (
                f"personal field {path} is sealed under key {key_id}, which is not a key of "
                "the event's subject at its controller — fix: a value is sealed by the "
                "ledger for the subject it is about; re-submit the event through the ledger"
            )
        return None
    # A key the store does not hold is most often a shredded one, or one held by another
    # host's key store: the record cannot be judged here, and dead-lettering it would make
    # the projections depend on when and where they were built. Only a subject that this
    # store records at another controller is a positive contradiction.
    owner = keys.controller_of(event.subject_id)
    if owner is None or owner == event.controller:
        return None
    return (
        f"personal field {path} is sealed under key {key_id} for a subject of another "
        "controller — fix: a subject id names a person at one controller; append through "
        "the ledger, which records the subject and seals under its key"
    )
