"""Policy versions come from PolicyPublished events: each event is checked against the
catalog version in force at its valid time."""

from __future__ import annotations

from pathlib import Path

from ledger.policy.catalog import PACKAGED_DIR
from tests.cli.test_cli import pdl
from tests.scenario import consent, lines

LOYALTY = """
[[purposes]]
id = "prize-draw"
title = "Programme de fidélité"
basis = "consent"
categories = ["identity", "contact"]
quote = "proposer un plan de récompenses pour les clients"
[purposes.retention]
duration = "P3Y"
anchor = "last_contact"
quote = "3 ans à compter du dernier contact"
"""


def new_version(tmp_path: Path) -> Path:
    text = (PACKAGED_DIR / "informatique70.toml").read_text("utf-8")
    text = text.replace('version = "2023-01-01"', 'version = "2025-01-01"')
    text = text.replace(
        "effective_from = 2023-01-01T00:00:00Z", "effective_from = 2025-01-01T00:00:00Z"
    )
    path = tmp_path / "informatique70-2025.toml"
    path.write_text(text + LOYALTY, "utf-8")
    return path


def test_published_version_governs_events_from_its_effective_date(
    log_url: str | None, tmp_path: Path
) -> None:
    catalog = new_version(tmp_path)
    assert pdl("catalog", "validate", str(catalog)).returncode == 0
    early = lines(consent("v@example.fr", purpose="prize-draw", when="2024-06-01T00:00:00Z"))
    refused = pdl("emit", "-", stdin="\n".join(early), log_url=log_url)
    assert refused.returncode == 1 and "unknown purpose" in refused.stderr

    published = pdl("catalog", "publish", str(catalog), "--retroactive", log_url=log_url)
    assert published.returncode == 0, published.stderr
    listed = pdl("catalog", "list", log_url=log_url).stdout
    assert "informatique70\t2025-01-01" in listed and "informatique70\t2023-01-01" in listed

    late = lines(consent("v@example.fr", purpose="prize-draw", when="2025-02-01T00:00:00Z"))
    assert pdl("emit", "-", stdin="\n".join(late), log_url=log_url).returncode == 0
    still_refused = pdl("emit", "-", stdin="\n".join(early), log_url=log_url)
    assert still_refused.returncode == 1, "the old version still governs 2024"


def test_invalid_catalog_names_each_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    text = (PACKAGED_DIR / "informatique70.toml").read_text("utf-8")
    broken.write_text(
        text.replace('basis = "consent"', 'basis = "vibes"', 1).replace(
            'duration = "P60D"', 'duration = "sixty days"'
        ),
        "utf-8",
    )
    result = pdl("catalog", "validate", str(broken))
    assert result.returncode == 1
    assert "purposes.0.basis" in result.stderr and "purposes.2.retention.duration" in result.stderr
