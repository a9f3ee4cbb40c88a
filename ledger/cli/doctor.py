"""``pdl doctor``: the topic contract, checked topic by topic."""

from __future__ import annotations

import argparse
import json

from ledger.cli.common import Subparsers, add_command, open_ledger
from ledger.cli.exits import CANNOT_RUN, OK
from ledger.log.base import (
    CLEANUP_POLICY,
    MIN_INSYNC_REPLICAS,
    RETENTION_BYTES,
    RETENTION_MS,
    TIMESTAMP_TYPE,
)
from ledger.service.topic_contract import UNREPORTED

DESCRIPTION = """\
Check the ledger's topics against its topic contract and print the whole check: for
each topic its cleanup.policy, retention.ms, retention.bytes, message.timestamp.type,
replication factor and min.insync.replicas, then every setting that breaks the
contract ("refused": the topic can expire, compacts events, or takes the producer's
time — every other command refuses to run until it is fixed) or differs from
PDL_REPLICATION_FACTOR / PDL_MIN_INSYNC_REPLICAS ("advice"), each with the
kafka-configs command that fixes it. Missing topics are created first, right.
Exit status 0 when nothing is refused, 2 otherwise."""

EXAMPLES = """\
  pdl --log kafka://127.0.0.1:9092 doctor
  pdl doctor --json | jq '.findings'"""

COLUMNS = (CLEANUP_POLICY, RETENTION_MS, RETENTION_BYTES, TIMESTAMP_TYPE, MIN_INSYNC_REPLICAS)


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "doctor",
        run,
        "check the log's topics: nothing expires, record time is the broker's",
        DESCRIPTION,
        EXAMPLES,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    try:
        report = ledger.topic_report()
    finally:
        ledger.close()
    bootstrap = ledger.settings.kafka_bootstrap
    if args.json:
        print(
            json.dumps(
                {
                    "topics": [
                        {
                            "topic": s.topic,
                            "replication_factor": s.replication_factor,
                            **dict(s.config),
                        }
                        for s in report.settings
                    ],
                    "missing": list(report.missing),
                    "findings": [
                        {
                            "topic": f.topic,
                            "setting": f.setting,
                            "found": f.found,
                            "wanted": f.wanted,
                            "why": f.why,
                            "refuses": f.refuses,
                            "fix": f.fix(bootstrap),
                        }
                        for f in report.findings
                    ],
                },
                indent=2,
            )
        )
    else:
        print(f"log: {bootstrap or 'embedded'}")
        for s in report.settings:
            values = " ".join(f"{c}={s.config.get(c, UNREPORTED)}" for c in COLUMNS)
            print(f"  {s.topic}: replication.factor={s.replication_factor} {values}")
        for name in report.missing:
            print(f"  {name}: missing")
        for finding in report.findings:
            print(finding.line(bootstrap))
        print("topic contract: " + ("broken" if report.refusals else "kept"))
    return CANNOT_RUN if report.refusals or report.missing else OK
