"""``pdl lag``: how far a consumer group is behind, per partition."""

from __future__ import annotations

import argparse
import json

from consumers.lag import LagProbe, PartitionLag
from consumers.runner import DEFAULT_GROUP
from ledger.cli.common import Subparsers, add_command, open_ledger

DESCRIPTION = """\
Show, for each partition of the event topics, the group's committed offset (its
checkpoint in the projection store: where a restarted `pdl run` resumes), the log's end
offset, and the lag: in messages (end - committed) and in seconds (now minus the record
time of the oldest record not yet applied; 0 when caught up). These are the figures
`pdl run` exports as pdl_consumer_* metrics, and, on Kafka, the ones
kafka-consumer-groups.sh --describe shows (pdl run commits its checkpoints to the
group after each batch). Exit status 0, whatever the lag."""

EXAMPLES = """\
  pdl lag
  pdl --log kafka://127.0.0.1:9092 lag --group pdl-projections
  pdl lag --json | jq 'map(.lag_messages) | add'"""

COLUMNS = ("topic", "partition", "committed", "end", "lag_messages", "lag_seconds")


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "lag",
        run,
        "show consumer lag per partition, in messages and seconds",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument(
        "--group", default=DEFAULT_GROUP, help=f"consumer group (default: {DEFAULT_GROUP})"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        probe = LagProbe(ledger.log, ledger.store)
        try:
            lags = probe.measure(args.group, ledger.topics.event_topics())
        finally:
            probe.close()
    finally:
        ledger.close()
    if args.json:
        print(json.dumps([lag.as_dict() for lag in lags], indent=2))
    else:
        print(f"group {args.group}")
        print(table(lags))
    return 0


def table(lags: list[PartitionLag]) -> str:
    rows = [[c.upper().replace("_", "-") for c in COLUMNS]]
    for lag in lags:
        rows.append(
            [
                lag.topic,
                str(lag.partition),
                str(lag.committed),
                str(lag.end),
                str(lag.lag_messages),
                f"{lag.lag_seconds:.3f}",
            ]
        )
    total = sum(lag.lag_messages for lag in lags)
    oldest = max((lag.lag_seconds for lag in lags), default=0.0)
    rows.append(["total", "", "", "", str(total), f"{oldest:.3f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )
