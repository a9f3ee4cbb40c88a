"""A catalog's quotes checked against the notice they transcribe.

Every entry of a catalog quotes the sentence it comes from; a quote is faithful when it
appears verbatim in the notice, up to layout: whitespace runs count as one space and the
typographic apostrophe as a plain one. Nothing else is forgiven — a changed word, digit
or accent is a misquote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ledger.policy.catalog import Catalog


def normalise(text: str) -> str:
    """Whitespace runs become one space, typographic apostrophes plain ones; nothing else."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()


def quotes(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every quote of a dumped catalog (quote, basis_quote, safeguard_quote...), with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("quote") and isinstance(value, str):
                yield f"{where}.{key}".lstrip("."), value
            else:
                yield from quotes(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from quotes(value, f"{where}[{i}]")


def misquotes(catalog: Catalog, notice: str) -> list[tuple[str, str]]:
    """(path, quote) of every quote not found verbatim in ``notice``."""
    text = normalise(notice)
    return [(where, q) for where, q in quotes(catalog.model_dump()) if normalise(q) not in text]
