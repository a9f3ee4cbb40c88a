"""Helpers for the operations tests: events with a known record time, Kafka's own lag
tool, and a Prometheus scrape parsed into samples."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ledger.log.base import TopicPartition
from ledger.service.backends import Backends
from tests.scenario import collected, consent

ROOT = Path(__file__).resolve().parents[2]
KAFKA_LIB = ROOT / "infra" / "kafka" / "target" / "lib"
TOOLS_LOG4J = ROOT / "infra" / "kafka" / "tools-log4j2.yaml"

#: (name, labels as a sorted tuple) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def emit(ledger: Backends, subjects: int) -> int:
    """Appends a DataCollected and a ConsentGiven for each of ``subjects`` people in one
    batch; returns the number of events. Their record time is the log's clock
    (``Backends.log_clock`` on the embedded log)."""
    intake = ledger.intake()
    events = []
    for i in range(subjects):
        email = f"ops-{i}@example.fr"
        events += [intake.prepare(collected(email, email)), intake.prepare(consent(email))]
    intake.append(events)
    return len(events)


def kafka_tool(main_class: str, *args: str, check: bool = True) -> str:
    """Run one of Kafka's own command-line tools from the broker's Maven jars; its stdout."""
    result = subprocess.run(
        [
            "java",
            "-cp",
            f"{KAFKA_LIB}/*",
            f"-Dlog4j2.configurationFile={TOOLS_LOG4J}",
            main_class,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )
    return result.stdout


CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


def kafka_describe(bootstrap: str, group: str) -> dict[TopicPartition, tuple[int, int, int]]:
    """CURRENT-OFFSET, LOG-END-OFFSET and LAG per partition, as Kafka's
    ConsumerGroupCommand (kafka-consumer-groups.sh --describe) prints them; partitions
    without a committed offset ("-") are left out."""
    printed = kafka_tool(
        CONSUMER_GROUPS, "--bootstrap-server", bootstrap, "--describe", "--group", group
    )
    rows: dict[TopicPartition, tuple[int, int, int]] = {}
    header: list[str] | None = None
    for line in printed.splitlines():
        cells = line.split()
        if cells[:1] == ["GROUP"]:
            header = cells
        elif header and len(cells) >= 6 and cells[0] == group:
            row = dict(zip(header, cells, strict=False))
            if "-" in (row["CURRENT-OFFSET"], row["LAG"]):
                continue
            rows[TopicPartition(row["TOPIC"], int(row["PARTITION"]))] = (
                int(row["CURRENT-OFFSET"]),
                int(row["LOG-END-OFFSET"]),
                int(row["LAG"]),
            )
    assert header is not None, f"no table in Kafka's output:\n{printed}"
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> tuple[str, Samples]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return text, parse(text)


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def by_partition(samples: Samples, name: str, topics: list[str]) -> dict[TopicPartition, float]:
    found = {}
    for (sample, labels), value in samples.items():
        tags = dict(labels)
        if sample == name and tags.get("topic") in topics:
            found[TopicPartition(tags["topic"], int(tags["partition"]))] = value
    return found


def pdl_process(*args: str, log_url: str | None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if log_url:
        env["PDL_LOG"] = log_url
    return subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


SUBJECT_ID = re.compile(r"sub_[0-9a-f]{32}")
