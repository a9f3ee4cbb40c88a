"""``pdl run``: run the projection consumers until stopped."""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading

from prometheus_client import REGISTRY

from consumers.erasure import ErasureProcessor
from consumers.metrics import MetricsObserver
from consumers.outage import LogHealth, keep_going
from consumers.rebuild import store_lock
from consumers.runner import ProjectionConsumer
from ledger.cli.common import Subparsers, add_command, open_ledger, say
from ledger.cli.exits import INTERRUPTED
from ledger.cli.rebuild import stop_on_signals
from ledger.errors import LedgerError, Unavailable
from ledger.service.backends import Backends
from ledger.service.erasure import erasure_processor
from ledger.service.keys import sweep_backup_keys
from ledger.service.monitoring import Monitoring
from ledger.service.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_METRICS_PORT = 9464

DESCRIPTION = """\
Consume every event topic and keep the projections current. Each batch commits its
projection state and its checkpoint in one transaction, so a consumer killed at any
point resumes exactly where its state stops. Several `pdl run` in one consumer group
share the partitions (Kafka). Ctrl-C or SIGTERM stops it cleanly after the batch in
hand is committed (--until-caught-up too). Bad records go to the dead-letter topic;
the loop keeps going. Erasure requests (from `pdl erase`, `pdl emit` or `pdl retention
run`) are carried out by the erasure processor running beside it (--no-erasure leaves
them to `pdl erase`); if it fails, `pdl run` stops with an error rather than leave
requests unanswered. At start and then hourly it destroys the expired backup keys (`pdl
keys prune-backup-keys`), which keeps the date certificates state as
backups_unreadable_by.

An outage of the log does not stop it: both loops retry with capped exponential backoff,
log the outage, report it in pdl_log_reachable and pdl_log_seconds_since_success, and
resume by themselves (a request waiting meanwhile is carried out then; its deadline keeps
counting). Records deleted from the log before they were applied (topic retention) stop
it with an error naming the topics, partitions and offsets lost. It refuses to start
while `pdl rebuild` rebuilds its store, and `pdl rebuild` refuses while it runs.

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
        stack.enter_context(store_lock(ledger.store_path, rebuilding=False))
        observer = MetricsObserver(ledger.topics.projections_group) if port else None
        runner = ledger.runner(observer=observer)
        if observer is not None:
            serve_metrics(stack, ledger, runner, observer, args.metrics_addr, port, chosen)
        eraser = None if args.no_erasure else erasure_processor(_own(stack, ledger))
        stop = stop_on_signals("pdl run")
        if args.until_caught_up:
            progress = runner.catch_up(ledger.settings.stall_timeout_s, stop=stop)
            if eraser is not None and not stop.is_set():
                eraser.process_pending()
            _sweep_backup_keys(ledger)
            if stop.is_set():
                say(f"pdl run: stopped before catching up; applied {progress.applied}")
                return INTERRUPTED
        else:
            say(f"pdl run: consuming {', '.join(runner.consumed)} as group {runner.group}")
            failed, erasing = _carry_out_erasures(eraser, stop, ledger.topics.erasure_group)
            sweeping = _sweep_backup_keys_hourly(_own(stack, ledger), stop)
            try:
                progress = runner.run(stop, health=LogHealth(runner.group))
            finally:
                stop.set()  # the erasure processor too, before the adapters close
                if erasing is not None:
                    erasing.join(ERASURE_STOP_WAIT_S)
                sweeping.join(ERASURE_STOP_WAIT_S)
            if failed:
                if isinstance(failed[0], LedgerError):
                    raise failed[0]
                raise Unavailable(
                    f"pdl run: the erasure processor failed ({type(failed[0]).__name__}); "
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


#: seconds between two passes of the erasure processor over pending requests
ERASURE_PASS_EVERY_S = 5.0
#: how long a stopping `pdl run` waits for an erasure pass in hand to end
ERASURE_STOP_WAIT_S = 60.0


def _carry_out_erasures(
    eraser: ErasureProcessor | None, stop: threading.Event, group: str
) -> tuple[list[Exception], threading.Thread | None]:
    """Run the erasure processor beside the projections. An unreachable log is waited
    out (the pass is retried with backoff); any other failure stops everything."""
    failed: list[Exception] = []
    if eraser is None:
        return failed, None

    def carry_out() -> None:
        try:
            keep_going(
                lambda: eraser.process_pending(catch_up_projections=False),
                stop,
                LogHealth(group),
                ERASURE_PASS_EVERY_S,
            )
        except LedgerError as exc:  # fatal, and raised again by run()
            failed.append(exc)
            stop.set()
        except Exception as exc:  # reported and fatal: see the Unavailable raised by run()
            failed.append(exc)
            log.exception("erasure processor failed")
            stop.set()

    thread = threading.Thread(target=carry_out, name="pdl-erasure", daemon=True)
    thread.start()
    return failed, thread


#: seconds between two sweeps of expired backup keys: a backup key outlives the date
#: certificates state as ``backups_unreadable_by`` by at most this long
BACKUP_KEY_SWEEP_EVERY_S = 3600.0
#: seconds before a failed sweep is tried again
BACKUP_KEY_SWEEP_RETRY_S = 60.0


def _sweep_backup_keys(ledger: Backends) -> bool:
    """Destroy the expired backup keys (``sweep_backup_keys`` logs their ids). A failure
    is logged, not fatal: stopping `pdl run` would stop erasures too, and the next sweep
    retries."""
    try:
        sweep_backup_keys(ledger)
    except LedgerError as exc:
        log.error("pdl run: sweeping expired backup keys failed: %s", exc)
        return False
    return True


def _sweep_backup_keys_hourly(ledger: Backends, stop: threading.Event) -> threading.Thread:
    """Sweep at once, then every ``BACKUP_KEY_SWEEP_EVERY_S`` (after a failure, every
    ``BACKUP_KEY_SWEEP_RETRY_S``) until ``stop`` is set, whether or not this process
    carries out erasures: the bound the certificates state holds only if someone
    destroys the keys on time."""

    def sweep() -> None:
        while not stop.is_set():
            swept = _sweep_backup_keys(ledger)
            stop.wait(BACKUP_KEY_SWEEP_EVERY_S if swept else BACKUP_KEY_SWEEP_RETRY_S)

    thread = threading.Thread(target=sweep, name="pdl-backup-keys", daemon=True)
    thread.start()
    return thread


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
