"""From a log record to a recorded event, or to the reason it cannot be one."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from ledger.contract.base import RECORDED
from ledger.contract.events import EVENT_TYPES
from ledger.contract.rejection import rejections_from
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.log.base import LogRecord
from projections.base import Recorded


def record_time(record: LogRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)


def decode(record: LogRecord, registry: SchemaRegistry) -> Recorded | str:
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
    return Recorded(event, record.topic, record.partition, record.offset, record_time(record))
