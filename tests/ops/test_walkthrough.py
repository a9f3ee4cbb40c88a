"""The operator walk-through of docs/OPERATORS.md (Runbook), end to end: a settings file,
`pdl run` and `pdl lag --serve` started with the command lines of their systemd units, and
Debian's Prometheus scraping them with the shipped configuration and rules. Lag, read from
Prometheus's HTTP API, rises while the consumer is stopped and returns to zero after it
restarts.

The embedded log stands in for the broker: the exporter reads the group offsets `pdl run`
commits to it exactly as it reads Kafka's. Without /usr/bin/prometheus the test is
skipped, except under CI or ``PDL_REQUIRE_PROMETHEUS=1`` (.ci/run installs the package)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.service.lag_exporter import LagExporter
from ledger.service.settings import Settings
from tests.conftest import unavailable
from tests.ops.support import ROOT, free_port

PROMETHEUS = Path("/usr/bin/prometheus")
UNITS = ROOT / "infra" / "systemd"
SHIPPED_CONFIG = ROOT / "infra" / "prometheus" / "prometheus.yml"
SHIPPED_RULES = ROOT / "infra" / "prometheus" / "rules" / "pdl.rules.yml"
SCENARIO = ROOT / "ledger" / "service" / "demo_scenario.jsonl"
#: the paths the units name, as installed by the runbook
INSTALLED_PDL = "/opt/pdl/bin/pdl"
INSTALLED_CONFIG = "/etc/pdl/pdl.toml"
INSTALLED_STATE = "/var/lib/pdl"

PROJECTIONS_LAG = 'sum(pdl_group_lag_messages{job="pdl-lag",group="pdl-projections"})'
ALL_LAG = 'sum(pdl_group_lag_messages{job="pdl-lag"})'
ERASURES = 'sum(pdl_erasures_recorded_total{job="pdl-lag"})'


#: How long a query may take to show the expected value: generous, since a loaded 2-core
#: CI machine starts processes slowly; the test goes on as soon as the value is seen.
WAIT_S = 90


@pytest.fixture
def prometheus_binary() -> Path:
    if not PROMETHEUS.exists():
        unavailable(f"{PROMETHEUS} missing (apt-get install prometheus)", "PDL_REQUIRE_PROMETHEUS")
    return PROMETHEUS


def unit_command(unit: str, settings: Path, state: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart and Environment= of an installed unit, with this checkout's `pdl` and the
    test's settings file and state directory in place of the installed paths."""
    exec_start: list[str] = []
    environment: dict[str, str] = {}
    for line in (UNITS / unit).read_text("utf-8").splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            exec_start = shlex.split(value)
        elif key == "Environment":
            name, _, setting = value.partition("=")
            environment[name] = setting
    assert exec_start[0] == INSTALLED_PDL, exec_start
    assert environment.get("PDL_CONFIG") == INSTALLED_CONFIG, environment
    exec_start[0] = str(Path(sys.executable).with_name("pdl"))
    installed = {INSTALLED_CONFIG: str(settings), INSTALLED_STATE: str(state)}
    return exec_start, {name: installed.get(v, v) for name, v in environment.items()}


def derived_prometheus_config(run_port: int, lag_port: int) -> str:
    """The shipped prometheus.yml with its targets moved to the test's ports, a 1 s
    interval, and the shipped rules file by its absolute path."""
    text = SHIPPED_CONFIG.read_text("utf-8")
    changes = {
        "scrape_interval: 15s": "scrape_interval: 1s",
        "evaluation_interval: 15s": "evaluation_interval: 1s",
        '"127.0.0.1:9464"': f'"127.0.0.1:{run_port}"',
        '"127.0.0.1:9467"': f'"127.0.0.1:{lag_port}"',
        "- rules/pdl.rules.yml": f"- {SHIPPED_RULES}",
    }
    for shipped, here in changes.items():
        assert shipped in text, f"{shipped!r} no longer in {SHIPPED_CONFIG}"
        text = text.replace(shipped, here)
    return text


class Prometheus:
    def __init__(self, port: int) -> None:
        self.port = port

    def query(self, expr: str) -> float | None:
        """The instant value of a one-series expression; None when it has none."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr}
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def rules(self) -> set[str]:
        url = f"http://127.0.0.1:{self.port}/api/v1/rules"
        with urllib.request.urlopen(url, timeout=5) as response:
            groups = json.load(response)["data"]["groups"]
        return {rule["name"] for group in groups for rule in group["rules"]}

    def wait_for(self, expr: str, accept: Callable[[float | None], bool], within: float) -> None:
        deadline = time.monotonic() + within
        seen: float | None = None
        while time.monotonic() < deadline:
            try:
                seen = self.query(expr)
            except OSError:
                seen = None  # still starting
            if accept(seen):
                return
            time.sleep(0.5)
        raise AssertionError(f"{expr} still {seen} after {within} s")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """As systemctl stop does: SIGTERM, then wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)


def test_lag_rises_while_pdl_run_is_stopped_and_falls_when_it_restarts(
    tmp_path: Path, prometheus_binary: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    state = tmp_path / "state"
    run_port, lag_port, prometheus_port = free_port(), free_port(), free_port()
    settings = tmp_path / "pdl.toml"
    settings.write_text(f'data_dir = "{state}"\nmetrics_port = {run_port}\npartitions = 3\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDL_")}
    env["HOME"] = str(tmp_path / "home")

    run_command, run_env = unit_command("pdl-run.service", settings, state)
    lag_command, lag_env = unit_command("pdl-lag.service", settings, state)
    # the unit's exporter listens on the default port; the test's must not collide
    lag_command += ["--port", str(lag_port)]
    emit = [run_command[0], "emit", str(SCENARIO)]

    config = tmp_path / "prometheus.yml"
    config.write_text(derived_prometheus_config(run_port, lag_port))
    processes.append(
        start(
            [
                str(prometheus_binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
            ],
            env,
            tmp_path / "prometheus.log",
        )
    )
    prometheus = Prometheus(prometheus_port)
    run = start(run_command, {**env, **run_env}, tmp_path / "run.log")
    processes.append(run)
    processes.append(start(lag_command, {**env, **lag_env}, tmp_path / "lag.log"))

    def logs() -> str:
        return "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))

    try:
        prometheus.wait_for('up{job="pdl"}', lambda v: v == 1, within=WAIT_S)
        prometheus.wait_for(ALL_LAG, lambda v: v == 0, within=WAIT_S)
        assert {"PdlGroupLagGrowing", "PdlConsumerDown"} <= prometheus.rules()

        stop(run)  # systemctl stop pdl-run
        prometheus.wait_for('up{job="pdl"}', lambda v: v == 0, within=WAIT_S)
        emitted = subprocess.run(
            emit, env={**env, **run_env}, capture_output=True, text=True, timeout=60, check=False
        )
        assert emitted.returncode == 0, emitted.stderr
        prometheus.wait_for(PROJECTIONS_LAG, lambda v: v is not None and v > 0, within=WAIT_S)

        processes.append(start(run_command, {**env, **run_env}, tmp_path / "run.log"))
        prometheus.wait_for('up{job="pdl"}', lambda v: v == 1, within=WAIT_S)
        prometheus.wait_for(ALL_LAG, lambda v: v == 0, within=WAIT_S)
        # the scenario's erasure request, carried out by `pdl run`, counted from the log
        prometheus.wait_for(ERASURES, lambda v: v is not None and v >= 1, within=WAIT_S)
        stop(processes[-1])
        prometheus.wait_for('up{job="pdl"}', lambda v: v == 0, within=WAIT_S)
        assert (prometheus.query(ERASURES) or 0) >= 1  # outlives the consumer
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n--- logs ---\n{logs()}") from None


def test_the_exporter_counts_erasures_from_the_log_whoever_made_them(tmp_path: Path) -> None:
    """Without Prometheus: `pdl lag --serve`'s registry counts the scenario's erasure,
    carried out by a `pdl run` that has exited since."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDL_")}
    env.update(HOME=str(tmp_path / "home"), PDL_DATA_DIR=str(tmp_path / "data"))
    pdl = [sys.executable, "-m", "ledger.cli.main"]
    for args in (["emit", str(SCENARIO)], ["run", "--until-caught-up"]):
        done = subprocess.run([*pdl, *args], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    exporter = LagExporter(Settings.from_environment(environ=env))
    try:
        counted = {
            (s.labels["reason"], s.labels["scope_kind"]): s.value
            for family in exporter.registry.collect()
            for s in family.samples
            if s.name == "pdl_erasures_recorded_total"
        }
    finally:
        exporter.close()
    assert counted == {("consent_withdrawn", "purpose"): 1.0}
