"""Every error message the docs quote is one the code can print.

What counts as a quoted message (the convention docs follow):
- an inline code span, or a line of a fenced code block, that starts with ``pdl:`` or
  ``pdl COMMAND:`` (how the CLI prefixes what it says to the operator), or with
  ``line N:`` (how ``pdl emit`` names a rejected line);
- a code span in the first column of a table whose header is ``symptom``.

In a quote, ``…``, ``...``, ``<anything>``, capitalised placeholders (``HOST:PORT``, ``N``)
and numbers stand for any text. In the code, every string constant and every f-string of
ledger/, consumers/ and projections/ is a message, its ``{fields}`` standing for any text.
A quote passes when messages can print it (``unmatched``), after the prefix the CLI adds
(``pdl:``, ``pdl COMMAND:``, ``line N:``)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import pytest

from tests.ops.support import ROOT

SOURCES = ("ledger", "consumers", "projections")
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

ANY = "\x00"  # stands for any text, in quotes and in messages alike
#: what the CLI adds in front of a message: ``pdl:``, ``pdl COMMAND:``, ``line N:``
PREFIX = re.compile(r"^(?:pdl(?: [a-z][a-z-]*)*(?: --[a-z-]+)?|line [N0-9]+): ")
QUOTE_START = re.compile(r"^(?:pdl(?: [a-z][a-z-]*)*(?: --[a-z-]+)?: |line [N0-9]+: )")
COMMAND = re.compile(r"^pdl(?: [a-z][a-z-]*)*$")
PLACEHOLDER = re.compile(r"…|\.\.\.|<[^>]+>|\b[A-Z][A-Z_]*(?::[A-Z_]+)?\b|\d+(?:[.:-]\d+)*")


def quotes(text: str) -> Iterator[str]:
    """The error messages a markdown text quotes."""
    fenced = False
    symptom_table = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            if QUOTE_START.match(line.strip()):
                yield line.strip()
            continue
        if line.startswith("| symptom |"):
            symptom_table = True
        elif not line.startswith("|"):
            symptom_table = False
        if symptom_table and line.startswith("| "):
            first_cell = line.split("|")[1]
            for span in re.findall(r"`([^`]+)`", first_cell):
                # what the operator sees, not a command or an alert's name
                if " " in span and not COMMAND.match(span):
                    yield span
        for span in re.findall(r"`([^`]+)`", line):
            if QUOTE_START.match(span) and ": " in span:
                yield span


def pattern_of_quote(quote: str) -> str:
    return PLACEHOLDER.sub(ANY, PREFIX.sub("", quote))


def messages() -> list[str]:
    """Every string constant and f-string of the sources, fields as ``ANY``."""
    found: set[str] = set()
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            docstrings = {
                id(node.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            }
            for node in ast.walk(tree):
                if id(node) in docstrings:
                    continue
                if isinstance(node, ast.JoinedStr):
                    found.add(
                        "".join(
                            str(part.value) if isinstance(part, ast.Constant) else ANY
                            for part in node.values
                        )
                    )
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return sorted(found)


def literal_match(message: str, quote: str) -> int | None:
    """How many letters of ``quote`` at best meet the same letters of ``message`` when
    the text ``message`` stands for contains the text ``quote`` stands for (``ANY`` is
    any text in both); None when it never can. Letters a message's field stands in for
    do not count: a message that is all fields would otherwise contain anything."""
    q = ANY + quote + ANY
    m, n = len(q), len(message)
    never = -1
    # best[i][j]: the best count matching q[i:] against message[j:], or never
    best = [[never] * (n + 1) for _ in range(m + 1)]
    best[m][n] = 0
    for i in range(m, -1, -1):
        for j in range(n, -1, -1):
            if i == m and j == n:
                continue
            options = [never]
            if i < m and q[i] == ANY:
                options.append(best[i + 1][j])  # the quote's ANY stands for nothing more
                if j < n:
                    options.append(best[i][j + 1])  # ... or for message[j] too
            if j < n and message[j] == ANY:
                options.append(best[i][j + 1])
                if i < m and q[i] != ANY:
                    options.append(best[i + 1][j])  # a message field stands for q[i]
            if i < m and j < n and q[i] == message[j] != ANY:
                after = best[i + 1][j + 1]
                options.append(after + q[i].isalpha() if after != never else never)
            best[i][j] = max(options)
    return None if best[0][0] == never else best[0][0]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z_]{4,}", text))


def found_in(segment: str, candidates: list[str]) -> bool:
    """Whether a message can print ``segment``, with its own words making up at least
    half of the segment's letters."""
    needed = words(segment)
    letters = sum(c.isalpha() for c in segment)
    for message in candidates:
        if len(needed & words(message)) * 2 < len(needed):
            continue  # a cheap filter first
        matched = literal_match(message, segment)
        if matched is not None and matched * 2 >= letters:
            return True
    return False


def unmatched(quote: str, candidates: list[str]) -> list[str]:
    """The parts of ``quote`` no message prints; empty when it comes from the code.

    Messages are composed (``field: rule — fix: …`` from three strings), so the quote is
    cut at ``: `` and `` — ``; parts of one word are field names, not messages. The
    longest part must come from the code, and at least half of the others (a list of
    catalog names after ``use one of:`` is data, not code)."""
    parts = [part for part in re.split(r": | — ", pattern_of_quote(quote)) if len(words(part)) >= 2]
    if not parts:
        return []  # a format (``line N: field: rule — fix: …``): nothing to look up
    missing = [part for part in parts if not found_in(part, candidates)]
    longest = max(parts, key=lambda part: len(words(part)))
    if longest in missing or len(missing) * 2 > len(parts):
        return missing
    return []


QUOTED = list(
    dict.fromkeys((path.name, quote) for path in DOCS for quote in quotes(path.read_text("utf-8")))
)


def test_the_docs_quote_messages() -> None:
    assert len(QUOTED) >= 5, QUOTED


@pytest.mark.parametrize(("doc", "quote"), QUOTED)
def test_a_quoted_message_comes_from_the_code(doc: str, quote: str) -> None:
    assert not unmatched(quote, MESSAGES), f"{doc} quotes a message no code prints"


def test_a_changed_message_is_caught() -> None:
    assert not unmatched("pdl: projections made no progress for 60 s", MESSAGES)
    assert unmatched("pdl: projections not caught up after 60 s", MESSAGES)
    assert literal_match(f"no broker at {ANY}: {ANY}", f"broker at {ANY}: {ANY}") == 8
    assert literal_match(f"no broker at {ANY}", "broker near") == 0  # the field's, not its
    assert literal_match("no broker at", "broker near") is None


MESSAGES = messages()
