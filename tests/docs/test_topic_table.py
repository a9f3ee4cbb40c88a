"""The docs list every topic the ledger creates, as the code creates it."""

from __future__ import annotations

import re

from ledger.contract.topics import Topics
from tests.docs.topic_table import HEADER, table
from tests.ops.support import ROOT

DOCS = ROOT / "docs"
#: `pdl.` words in the docs that are not topics: schema attributes and file names
NOT_TOPICS = {"pdl.personal", "pdl.encoding", "pdl.toml"}


def test_operators_md_holds_the_table_generated_from_the_code() -> None:
    text = (DOCS / "OPERATORS.md").read_text("utf-8")
    assert table() in text, "regenerate it: python -m tests.docs.topic_table"
    documented = text.split(HEADER[0], 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^\| `([^`]+)` \|", documented, re.MULTILINE)
    assert listed == list(Topics().all())


def test_every_topic_the_docs_name_exists() -> None:
    topics = set(Topics().all())
    for path in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        named = set(re.findall(r"`(pdl\.[a-z_]+)`", path.read_text("utf-8"))) - NOT_TOPICS
        assert named <= topics, (path.name, named - topics)
