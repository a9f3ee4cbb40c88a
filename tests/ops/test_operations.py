"""Issue 17: one settings file, JSON logs, a lag exporter that outlives the consumers,
service units that systemd accepts, and docs that match the code."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from ledger.service.settings import Settings
from ledger.service.settings_file import VARIABLES
from tests.conftest import per_test_topics, unavailable
from tests.ops.support import ROOT, Samples, free_port, scrape

SCENARIO = ROOT / "ledger" / "service" / "demo_scenario.jsonl"
CANARY = "camille.martin@example.fr"


def pdl(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PDL_")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME="", **extra)
    prefix = os.environ.get("PDL_TOPIC_PREFIX")
    if prefix:
        env["PDL_TOPIC_PREFIX"] = prefix
    return env


def test_the_reference_table_lists_exactly_the_settings_of_the_code() -> None:
    text = (ROOT / "docs" / "OPERATORS.md").read_text("utf-8")
    section = text.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `(PDL_\w+)` \|", section, re.MULTILINE)
    assert dict(rows) == dict(VARIABLES)


def test_a_settings_file_sits_under_the_environment_and_the_flags(tmp_path: Path) -> None:
    config = tmp_path / "pdl.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "from-file"}"\npartitions = 6\ntopic_prefix = "file."\n'
    )
    from_file = Settings.from_environment(environ={"PDL_CONFIG": str(config)})
    assert (from_file.data_dir, from_file.partitions) == (tmp_path / "from-file", 6)
    env = {"PDL_CONFIG": str(config), "PDL_PARTITIONS": "4"}
    assert Settings.from_environment(environ=env).partitions == 4
    flagged = Settings.from_environment(data_dir=tmp_path / "flag", environ=env)
    assert flagged.data_dir == tmp_path / "flag"
    assert flagged.topic_prefix == "file."


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('no_such = "x"\n', "unknown setting 'no_such'"),
        ("partitions = [1]\n", "partitions must be a string or a whole number"),
        ("partitions = \n", "cannot be read"),
    ],
)
def test_a_bad_settings_file_names_the_setting(tmp_path: Path, content: str, words: str) -> None:
    config = tmp_path / "pdl.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(words)):
        Settings.from_environment(environ={"PDL_CONFIG": str(config), "PDL_DATA_DIR": "/tmp/x"})
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.from_environment(config=tmp_path / "missing.toml", environ={})


def test_json_logs_parse_line_by_line_and_hold_no_personal_data(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PDL_DATA_DIR=str(tmp_path / "data"))
    emitted = pdl("-v", "--log-format", "json", "emit", str(SCENARIO), env=env)
    ran = pdl("-v", "--log-format", "json", "run", "--until-caught-up", env=env)
    assert ran.returncode == 0, ran.stderr
    # the commands' own messages to the operator (`pdl: ...`, `pdl run: ...`) are not logs
    lines = [
        line
        for line in (emitted.stderr + ran.stderr).splitlines()
        if line.strip() and not line.startswith("pdl")
    ]
    assert lines, "nothing logged at -v"
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "event"} <= set(record)
    assert CANARY not in emitted.stderr + ran.stderr


def test_the_readme_commands_work_as_written_from_a_fresh_clone(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    demo = pdl("demo", env=env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert f"pdl state {CANARY}" in demo.stderr
    assert "call-recording" in demo.stderr and "pdl retention run" in demo.stderr
    state = pdl("state", CANARY, env=env, cwd=tmp_path)
    assert state.returncode == 0, state.stderr
    assert "call-recording" in state.stdout
    assert not (tmp_path / "home" / ".local" / "share" / "pdl" / "master.key.2").exists()
    again = pdl("demo", env=env, cwd=tmp_path)  # the demo's own directory: allowed
    assert again.returncode == 0, again.stderr


def test_the_demo_refuses_a_real_ledger(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PDL_DATA_DIR=str(tmp_path / "real"))
    assert pdl("emit", str(SCENARIO), env=env).returncode == 0
    refused = pdl("demo", env=env)
    assert refused.returncode == 1
    assert "already holds a ledger that the demo did not create" in refused.stderr


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        unavailable("systemd-analyze missing (Debian's systemd; .ci/run installs it)")
    pdl_bin = Path(sys.executable).with_name("pdl")
    units = sorted((ROOT / "infra" / "systemd").glob("*.service"))
    assert {u.name for u in units} == {"pdl-run.service", "pdl-serve.service", "pdl-lag.service"}
    for unit in units:
        text = unit.read_text()
        for option in ("User=pdl", "ProtectSystem=strict", "NoNewPrivileges=yes"):
            assert option in text, (unit.name, option)
        assert "StateDirectoryMode=0700" in text
        # the units name /opt/pdl/bin/pdl; verify checks that the command exists
        (tmp_path / unit.name).write_text(text.replace("/opt/pdl/bin/pdl", str(pdl_bin)))
    verified = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / u.name) for u in units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert "Unknown" not in verified.stderr and "Ignoring" not in verified.stderr, verified.stderr


def test_the_lag_exporter_measures_every_group_from_the_log(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PDL_DATA_DIR=str(tmp_path / "data"))
    assert pdl("emit", str(SCENARIO), env=env).returncode == 0
    # twice: the first pass's erasure processor appends what the second applies
    for _ in range(2):
        assert pdl("run", "--until-caught-up", env=env).returncode == 0
    port = free_port()
    exporter = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "lag", "--serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert exporter.stdout is not None
        topics = per_test_topics()  # the groups follow the test's topic prefix
        projections = topics.projections_group
        assert f"{projections}, {topics.erasure_group}" in exporter.stdout.readline()
        lag = total(scrape(port)[1], "pdl_group_lag_messages", projections)
        assert lag == 0
        assert pdl("emit", str(SCENARIO), env=env).returncode == 0  # consumer down
        assert total(scrape(port)[1], "pdl_group_lag_messages", projections) > 0
        for _ in range(2):
            assert pdl("run", "--until-caught-up", env=env).returncode == 0
        assert total(scrape(port)[1], "pdl_group_lag_messages", projections) == 0
    finally:
        exporter.terminate()
        exporter.wait(timeout=30)


def total(samples: Samples, name: str, group: str) -> float:
    return sum(v for (n, labels), v in samples.items() if n == name and ("group", group) in labels)
