"""``pdl lag``: how far a consumer group is behind, per partition."""

from __future__ import annotations

import argparse
import json
import threading

from consumers.lag import LagProbe, PartitionLag
from ledger.cli.common import Subparsers, add_command, open_ledger, settings_of
from ledger.cli.rebuild import stop_on_signals
from ledger.contract.topics import PROJECTIONS_GROUP
from ledger.errors import Unavailable
from ledger.service.lag_exporter import DEFAULT_EXPORTER_PORT, LagExporter

DESCRIPTION = """\
Show, for each partition of the event topics, the group's committed offset (its
checkpoint in the projection store: where a restarted `pdl run` resumes), the log's end
offset, and the lag: in messages (end - committed) and in seconds (now minus the record
time of the oldest record not yet applied; 0 when caught up). These are the figures
`pdl run` exports as pdl_consumer_* metrics, and, on Kafka, the ones
kafka-consumer-groups.sh --describe shows (pdl run commits its checkpoints to the
group after each batch). Exit status 0, whatever the lag.

With --serve it becomes the lag exporter: a long-running process serving, on
http://127.0.0.1:9467/metrics, the lag of every group the ledger runs (projections and
erasure) read from the offsets each group committed to the log (pdl_group_* metrics).
Run it apart from `pdl run`: its figures keep rising while the consumers are down."""

EXAMPLES = """\
  pdl lag
  pdl --log kafka://127.0.0.1:9092 lag --group pdl-projections
  pdl lag --json | jq 'map(.lag_messages) | add'
  pdl --config /etc/pdl/pdl.toml lag --serve --port 9467"""

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
        "--group",
        help=f"consumer group (default: the projections' group, {PROJECTIONS_GROUP}; "
        f"<prefix>{PROJECTIONS_GROUP} under another PDL_TOPIC_PREFIX)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep running as the lag exporter of every group (Prometheus metrics)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_EXPORTER_PORT,
        help=f"the exporter's port (default: {DEFAULT_EXPORTER_PORT})",
    )
    parser.add_argument(
        "--addr", default="127.0.0.1", help="the exporter's address (default: 127.0.0.1)"
    )


def run(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(args)
    ledger = open_ledger(args)
    group = args.group or ledger.topics.projections_group
    try:
        probe = LagProbe(ledger.log, ledger.store)
        try:
            lags = probe.measure(group, ledger.topics.event_topics())
        finally:
            probe.close()
    finally:
        ledger.close()
    if args.json:
        print(json.dumps([lag.as_dict() for lag in lags], indent=2))
    else:
        print(f"group {group}")
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


def serve(args: argparse.Namespace) -> int:
    """The exporter: serves until SIGTERM or Ctrl-C."""
    stop: threading.Event = stop_on_signals("pdl lag --serve")
    exporter = LagExporter(settings_of(args))
    try:
        try:
            exporter.serve(args.addr, args.port)
        except OSError as exc:
            raise Unavailable(
                f"pdl lag --serve: cannot listen on {args.addr}:{args.port}: {exc.strerror}",
                "choose another --port, or stop what uses it",
            ) from None
        groups = ", ".join(exporter.groups)
        print(
            f"pdl lag --serve: lag of {groups} on http://{args.addr}:{args.port}/metrics",
            flush=True,
        )
        stop.wait()
    finally:
        exporter.close()
    return 0
