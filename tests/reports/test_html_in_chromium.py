"""The HTML reports render in headless Chromium (Debian's ``chromium``) with no console
message: the pages carry no script, so any message is the browser complaining (a bad
SVG attribute, a resource it could not load). Under CI a missing Chromium fails."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

from ledger.reports.render import ReportFormat, render
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.conftest import unavailable
from tests.reports.support import report, seeded

CONSOLE = re.compile(r":CONSOLE[(:]|Uncaught")


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        problem = "chromium is not installed (apt-get install chromium; .ci/run does it)"
        unavailable(problem, "PDL_REQUIRE_CHROMIUM")
    return found


def screenshot(page: Path, png: Path, profile: Path) -> list[str]:
    """Render ``page`` into ``png``; return the console lines Chromium logged."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            "--enable-logging=stderr",
            "--v=0",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if CONSOLE.search(line)]


def png_size(png: Path) -> tuple[int, int]:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_console_check_sees_a_page_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('deliberate')</script>")
    errors = screenshot(page, tmp_path / "broken.png", tmp_path / "profile")
    assert any("deliberate" in line for line in errors)


def test_every_html_report_renders_with_no_console_error(tmp_path: Path) -> None:
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    try:
        subject_id = seeded(ledger)
        pages = {
            "access": report(ledger, "access", subject_id=subject_id),
            "basis": report(ledger, "basis", purpose="newsletter"),
            "ropa": report(ledger, "ropa"),
            "consent": report(ledger, "consent", purpose="newsletter"),
            "erasure": report(ledger, "erasure"),
            "retention": report(ledger, "retention"),
            "transfers": report(ledger, "transfers"),
        }
    finally:
        ledger.close()
    for name, built in pages.items():
        page = tmp_path / f"{name}.html"
        page.write_bytes(render(built, ReportFormat.html))
        png = tmp_path / f"{name}.png"
        errors = screenshot(page, png, tmp_path / f"profile-{name}")
        assert errors == [], f"{name}: {errors}"
        assert png_size(png) == (1280, 2000)
        assert png.stat().st_size > 20_000, f"{name}: the screenshot looks blank"
    access_page = (tmp_path / "access.html").read_text("utf-8")
    assert access_page.count("<svg") == 1 and "Consents and legal bases over time" in access_page
    assert "<svg" in (tmp_path / "basis.html").read_text("utf-8")
    keep = os.environ.get("PDL_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in tmp_path.glob("*.png"):
            shutil.copy(png, Path(keep) / png.name)
