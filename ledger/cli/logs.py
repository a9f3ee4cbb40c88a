"""Where ``pdl`` logs go and how they look: the one place logging is configured.

``--log-format text`` (default) prints ``time level logger: message`` lines;
``--log-format json`` prints one JSON object per line with stable keys: ``time``,
``level``, ``logger``, ``event`` (the message), and, when the code passed them as
``extra``, ``group``, ``topic``, ``partition``, ``offset``, ``counts``, ``error``. Nothing
else of a record is printed (no arguments, no tracebacks: their values may be personal
data); an exception appears only as its type's name.

kafka-python's loggers (``kafka.*``) stay at WARNING with ``-v`` unless
``--kafka-log-level`` asks for more, and their metadata chatter (``No partition metadata
for topic ...``, printed while a topic is being created) is dropped: the log adapter
reports failures itself.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")

#: keys a record may carry as ``extra`` and that the JSON lines print
EXTRA_KEYS = ("group", "topic", "partition", "offset", "counts", "error")

#: kafka-python messages that say only that metadata is not there yet
_METADATA_NOISE = (
    "No partition metadata for topic",
    "is not available during auto-create",
    "Topic metadata is not available",
)

_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object per record, keys in a fixed order."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key in EXTRA_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None and "error" not in line:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, ensure_ascii=False)


class KafkaMetadataNoise(logging.Filter):
    """Drops kafka-python's "no metadata yet" lines, which say nothing an operator can act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("kafka"):
            return True
        message = record.getMessage()
        return not any(noise in message for noise in _METADATA_NOISE)


def configure(verbose: bool, log_format: str = "text", kafka_level: str | None = None) -> None:
    """Log to stderr at INFO with ``verbose``, else WARNING, in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(_TEXT))
    handler.addFilter(KafkaMetadataNoise())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if kafka_level is not None:
        logging.getLogger("kafka").setLevel(kafka_level.upper())
    elif verbose:
        # without -v the log adapter silences kafka-python itself (ledger/log/kafka_security.py)
        logging.getLogger("kafka").setLevel(logging.WARNING)
