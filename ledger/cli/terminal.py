"""What reaches a terminal: text from events and decrypted values, made inert.

A value someone else typed (a name on a web form, a consent channel, a hold reason) may
hold an escape sequence that clears the screen or a new line that forges a line of
output. Every printer of such text goes through ``printable``; JSON output through
``printable_json`` (``json.dumps`` already escapes C0 controls, not C1 or the rest).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.contract.base import CONTROL_CHARACTERS

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: What ``json.dumps`` leaves raw in strings: the C0 controls it escapes itself, and its
#: own indentation new lines must stay.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` on one line with nothing a terminal acts on: controls become ``\\x1b``,
    ``\\n``, ``\\u202e``… (a backslash typed as such stays one: it moves nothing)."""
    return CONTROL_CHARACTERS.sub(_escaped, str(text))


def printable_tree(value: Any) -> Any:
    """``value`` with ``printable`` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_tree(v) for v in value]
    return value


def printable_json(value: Any, **dumps: Any) -> str:
    """JSON text that is still exactly ``value`` when parsed, with every control
    character written as a ``\\u`` escape."""
    return _RAW_IN_JSON.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, **dumps)
    )
