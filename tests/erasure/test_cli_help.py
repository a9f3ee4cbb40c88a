"""Each erasure command explains itself with examples, and refuses bad input clearly."""

from __future__ import annotations

import pytest

from tests.erasure.helpers import pdl

COMMANDS = ["erase", "hold", "retention", "certificates", "verify-erasure"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_what_and_gives_an_example(command: str) -> None:
    result = pdl(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and f"pdl {command}" in result.stdout.split("examples:")[1]


def test_bad_scope_and_instant_name_the_rule_and_the_fix() -> None:
    scope = pdl("hold", "place", "x@example.fr", "--scope", "newsletter", "--reason", "r")
    assert scope.returncode == 2 and "fix: write subject, purpose:PURPOSE" in scope.stderr
    when = pdl("retention", "due", "--now", "2024-05-01T09:00")
    assert when.returncode == 2 and "has no time zone — fix: add Z" in when.stderr
    unknown = pdl("erase", "nobody@example.fr", "--reason", "request")
    assert unknown.returncode == 1 and "no subject is known" in unknown.stderr
