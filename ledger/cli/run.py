"""``pdl run``: run the projection consumers until stopped."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from types import FrameType

from prometheus_client import REGISTRY

from consumers.erasure import ErasureProcessor
from consumers.metrics import MetricsObserver
from consumers.runner import DEFAULT_GROUP, ProjectionConsumer
from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.errors import Unavailable
from ledger.service.backends import Backends
from ledger.service.erasure import erasure_processor
from ledger.service.monitoring import Monitoring
from ledger.service.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_METRICS_PORT = 9464

DESCRIPTION = """\
Consume every event topic and keep the projections current. Each batch commits its
projection state and its checkpoint in one transaction, so a consumer killed at any
point resumes exactly where its state stops. Several `pdl run` in one consumer group
share the partitions (Kafka). Ctrl-C or SIGTERM stops it cleanly after the batch in
hand is committed. Bad records go to the dead-letter topic; the loop keeps going.
Erasure requests (from `pdl erase`, `pdl emit` or `pdl retention run`) are carried out
by the erasure processor running beside it (--no-erasure leaves them to `pdl erase`);
if it fails, `pdl run` stops with an error rather than leave requests unanswered.

Prometheus metrics (lag per partition in messages and seconds, events by type, dead
letters by reason, latencies) are served on http://127.0.0.1:9464/metrics; see
docs/OPERATORS.md. --metrics-port 0 turns them off."""

EXAMPLES = """\
  pdl run
  pdl --log kafka://127.0.0.1:9092 run
  PDL_LOG=kafka://127.0.0.1:9092 pdl run --until-caught-up
  pdl run --metrics-port 9465               # a second consumer on this host
  curl -s 127.0.0.1:9464/metrics | grep pdl_consumer_lag"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers, "run", run, "run the projection consumers until stopped", DESCRIPTION, EXAMPLES
    )
    parser.add_argument(
        "--until-caught-up",
        action="store_true",
        help="stop once everything appended so far is applied (and erasures carried out)",
    )
    parser.add_argument(
        "--no-erasure",
        action="store_true",
        help="do not carry out erasure requests here (another process does)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help=f"serve Prometheus metrics on this port; 0: none "
        f"(default: PDL_METRICS_PORT, else {DEFAULT_METRICS_PORT})",
    )
    parser.add_argument(
        "--metrics-addr",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to serve metrics on (default: 127.0.0.1, this host only)",
    )


def run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    port, chosen = metrics_port(ledger.settings)
    with contextlib.ExitStack() as stack:
        stack.callback(ledger.close)
        observer = MetricsObserver(DEFAULT_GROUP) if port else None
        runner = ledger.runner(observer=observer)
        if observer is not None:
            serve_metrics(stack, ledger, runner, observer, args.metrics_addr, port, chosen)
        eraser = None if args.no_erasure else erasure_processor(_own(stack, ledger))
        if args.until_caught_up:
            progress = runner.catch_up()
            if eraser is not None:
                eraser.process_pending()
        else:
            stop = threading.Event()

            def request_stop(signum: int, frame: FrameType | None) -> None:
                say("pdl run: stopping after the current batch")
                stop.set()

            signal.signal(signal.SIGINT, request_stop)
            signal.signal(signal.SIGTERM, request_stop)
            say(f"pdl run: consuming {', '.join(runner.consumed)} as group {runner.group}")
            failed = _carry_out_erasures(eraser, stop)
            progress = runner.run(stop)
            if failed:
                raise Unavailable(
                    f"pdl run: the erasure processor failed ({failed[0]}); "
                    "stopped so that erasure requests do not go unanswered"
                )
    say(
        f"pdl run: applied {progress.applied}, dead letters {progress.dead_letters}, "
        f"redelivered and skipped {progress.skipped}"
    )
    return 0


def _own(stack: contextlib.ExitStack, ledger: Backends) -> Backends:
    """A second set of adapters for another thread: SQLite handles are not shared."""
    own = Backends(ledger.settings)
    stack.callback(own.close)
    return own


def _carry_out_erasures(eraser: ErasureProcessor | None, stop: threading.Event) -> list[str]:
    """Run the erasure processor beside the projections; a failure stops everything."""
    failed: list[str] = []
    if eraser is None:
        return failed

    def carry_out() -> None:
        try:
            eraser.keep_carrying_out(stop)
        except Exception as exc:  # reported and fatal: see the Unavailable raised by run()
            failed.append(type(exc).__name__)
            log.exception("erasure processor failed")
            stop.set()

    threading.Thread(target=carry_out, name="pdl-erasure", daemon=True).start()
    return failed


def metrics_port(settings: Settings) -> tuple[int, bool]:
    """The port to serve metrics on (0: none), and whether the user chose it
    (``--metrics-port`` or ``PDL_METRICS_PORT``, checked by the settings)."""
    if settings.metrics_port is None:
        return DEFAULT_METRICS_PORT, False
    return settings.metrics_port, True


def serve_metrics(
    stack: contextlib.ExitStack,
    ledger: Backends,
    runner: ProjectionConsumer,
    observer: MetricsObserver,
    addr: str,
    port: int,
    chosen: bool,
) -> None:
    """Serve /metrics until ``stack`` closes (the process's metrics and, measured at
    each scrape, the lag of the partitions ``observer`` owns and the key count)."""
    monitoring = Monitoring(ledger.settings, REGISTRY, runner.group, owned=observer)
    stack.callback(monitoring.close)
    try:
        monitoring.serve(addr, port)
    except OSError as exc:
        problem = f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}"
        if chosen:
            raise Unavailable(f"pdl run: {problem} — choose another --metrics-port, or 0") from None
        say(f"pdl run: {problem}; running without metrics (set --metrics-port)")
        return
    say(f"pdl run: metrics on http://{addr}:{port}/metrics")
