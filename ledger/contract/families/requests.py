"""Requests from people exercising their rights (topic family ``requests``).

A request is named by its controller and its ``request_id``: every event about it
carries both. Received, then perhaps identity verified or rejected, extended (Art. 12(3)),
answered, refused (Art. 12(5)) or withdrawn; recipients told of an erasure, rectification
or restriction are recorded one by one (Art. 19). What the person wrote is personal data
and is sealed like any personal field.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, ClassVar

from pydantic import Field

from ledger.contract.base import Label, PersonalText, Slug, SubjectEvent

#: A request's id within its controller: the controller's own reference, or ``req_`` and
#: a UUID when the ledger names it.
RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", max_length=64)]


class RequestKind(str, Enum):  # noqa: UP042 (str() of members must not change)
    """The right exercised: access (Art. 15), rectification (16), erasure (17),
    restriction (18), portability (20), objection (21), or a directive on the data after
    death (French law: loi Informatique et Libertés, Art. 85)."""

    access = "access"
    rectification = "rectification"
    erasure = "erasure"
    restriction = "restriction"
    portability = "portability"
    objection = "objection"
    post_mortem_directive = "post_mortem_directive"


class RefusalGround(str, Enum):  # noqa: UP042
    """GDPR Art. 12(5): a request manifestly unfounded or excessive may be refused; and
    Art. 11(2)/12(2): the controller cannot identify the person."""

    manifestly_unfounded = "manifestly_unfounded"
    excessive = "excessive"
    identity_not_established = "identity_not_established"


class RequestEvent(SubjectEvent):
    """Fields every event about a request carries."""

    topic_family: ClassVar[str] = "requests"

    request_id: RequestId = Field(description="The request, within its controller.")


class RequestReceived(RequestEvent):
    """A person asked to exercise a right; ``occurred_at`` is the receipt, from which the
    one-month deadline of Art. 12(3) runs."""

    kind: RequestKind = Field(description="The right exercised: access, erasure, ...")
    channel: Label = Field(description="How it was received, e.g. 'e-mail', 'web form'.")
    details: PersonalText | None = Field(
        default=None, description="What the person wrote, if kept. Personal data: ciphertext."
    )


class RequestIdentityVerified(RequestEvent):
    """The person's identity was checked and established (a catalog may require it)."""

    method: Label = Field(description="How, e.g. 'identity card, number masked'.")


class RequestIdentityRejected(RequestEvent):
    """The identity check failed: the request cannot be answered until it succeeds."""

    reason: Label = Field(description="Why, e.g. 'document illegible'.")


class RequestExtended(RequestEvent):
    """The deadline is extended by two further months (Art. 12(3)); the person is told
    within the first month, with the reason."""

    reason: Label = Field(description="Why: complexity or number of requests.")


class RequestAnswered(RequestEvent):
    """The request was answered."""

    summary: Label = Field(description="What was done, e.g. 'access report sent (fr)'.")
    certificate_sequence: int | None = Field(
        default=None, description="For erasure: the sequence of its certificate."
    )
    certificate_sha256: str | None = Field(
        default=None, description="For erasure: the SHA-256 of its certificate."
    )


class RequestRefused(RequestEvent):
    """The request was refused, with the ground (Art. 12(5)); the person is told of the
    right to complain and to a judicial remedy (Art. 12(4))."""

    ground: RefusalGround = Field(description="The ground relied on.")
    explanation: Label = Field(description="Why the ground applies.")


class RequestWithdrawn(RequestEvent):
    """The person withdrew the request."""

    reason: Label | None = Field(default=None, description="Why, if said.")


class RecipientNotified(RequestEvent):
    """A recipient was told of an erasure, rectification or restriction (Art. 19)."""

    recipient: Slug = Field(description="Recipient id from the controller's catalog.")
    channel: Label = Field(description="How it was told, e.g. 'API', 'e-mail'.")


REQUEST_EVENTS: tuple[type[RequestEvent], ...] = (
    RequestReceived,
    RequestIdentityVerified,
    RequestIdentityRejected,
    RequestExtended,
    RequestAnswered,
    RequestRefused,
    RequestWithdrawn,
    RecipientNotified,
)
