"""Personal fields are found and replaced by path, whatever the shape of the model:
the per-class plan (``ledger.contract.walk``) skips only fields that cannot hold one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ledger.contract.base import PersonalText
from ledger.contract.secret import Secret
from ledger.contract.walk import personal_fields, replace_personal


class Line(BaseModel):
    model_config = ConfigDict(frozen=True)
    label: str
    value: PersonalText


class Plain(BaseModel):
    model_config = ConfigDict(frozen=True)
    label: str
    tags: list[str] = []


class Thread(BaseModel):
    """Refers to itself: a reply is a thread."""

    model_config = ConfigDict(frozen=True)
    note: PersonalText | None = None
    replies: list[Thread] = []


class Form(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: str
    note: PersonalText | None = None
    lines: list[Line] = []
    grid: list[list[Line]] = []
    first: Line | None = None
    plain: Plain | None = None
    thread: Thread | None = None
    anything: Any = None
    by_name: dict[str, Line] = {}  # the walk does not look inside dicts


def _plain(value: str) -> Secret:
    return Secret(plaintext=value)


def _form() -> Form:
    return Form(
        title="t",
        note=_plain("n"),
        lines=[Line(label="a", value=_plain("l0")), Line(label="b", value=_plain("l1"))],
        grid=[[], [Line(label="c", value=_plain("g10"))]],
        first=Line(label="d", value=_plain("f")),
        plain=Plain(label="p", tags=["x"]),
        thread=Thread(
            replies=[Thread(note=_plain("r0")), Thread(replies=[Thread(note=_plain("r10"))])]
        ),
        anything=[Line(label="e", value=_plain("any0"))],
        by_name={"k": Line(label="f", value=_plain("dict"))},
    )


FOUND = {
    "note": "n",
    "lines[0].value": "l0",
    "lines[1].value": "l1",
    "grid[1][0].value": "g10",
    "first.value": "f",
    "thread.replies[0].note": "r0",
    "thread.replies[1].replies[0].note": "r10",
    "anything[0].value": "any0",
}


def test_every_personal_field_is_found_by_its_path() -> None:
    found = [(path, secret.plaintext) for path, secret in personal_fields(_form())]
    assert found == list(FOUND.items())  # declaration order, depth first
    assert list(personal_fields(Form(title="t"))) == []


def test_every_personal_field_is_replaced_by_its_path() -> None:
    form = _form()
    sealed = replace_personal(form, lambda path, _: Secret(sealed=path.encode()))
    assert {p: s.sealed for p, s in personal_fields(sealed)} == {p: p.encode() for p in FOUND}
    assert sealed.by_name == form.by_name and sealed.plain == form.plain
    assert sealed.title == "t" and form.note == _plain("n")  # the original is unchanged


def test_a_model_without_personal_fields_comes_back_as_it_is() -> None:
    plain = Plain(label="p", tags=["x"])
    assert replace_personal(plain, lambda path, _: Secret(sealed=b"")) is plain
    assert list(personal_fields(plain)) == []
