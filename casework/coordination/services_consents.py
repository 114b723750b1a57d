"""Every write to a client's releases of information: record one, revoke it, end it on its event.

A release (HIPAA authorization or 42 CFR Part 2 consent, see `models/consent.py`) is never
edited once recorded: a wrong one is revoked with a note and recorded again, so the
disclosures made under it keep pointing at what the client signed.

Decisions:
- A release names at least one recipient of the agency's active directory; a person and an
  organisation together must agree (the person works there or has no organisation listed).
- It ends on a date, on an event, or both (whichever comes first). A TPO consent may instead
  cover "all future" treatment, payment and operations: it is stored as that expiry event and
  lasts until revoked (42 CFR 2.31(a)(6) lets a TPO consent say "none").
- SUD counseling notes need a consent of their own (42 CFR 2.31(b)).
- Revoking takes effect at that moment: `disclosure_record` locks the client's releases, so a
  disclosure racing a revocation either finishes first or is refused.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from casework.clients.models import Client
from casework.clients.services import timeline_add
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import (
    Category,
    Consent,
    Document,
    Organization,
    Person,
    Purpose,
)
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User

CONSENT_RECORD = "consent_record"  # idempotency purpose
ALL_FUTURE_TPO = "None: all future treatment, payment and health care operations, until revoked"


class ReleaseError(CoordinationError):
    """A release that cannot be recorded as given; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class NewRelease:
    """What the client signed, as typed on the release form."""

    organization: Organization | None
    person: Person | None
    purpose: str
    categories: tuple[str, ...]
    starts_on: datetime.date
    expires_on: datetime.date | None = None
    expiry_event: str = ""
    all_future: bool = False
    purpose_detail: str = ""
    signed_how: str = ""
    signed_by_name: str = ""
    signer_confirmed: bool = False
    signed_copy: Document | None = None
    signed_on: datetime.date | None = None


@dataclass(frozen=True)
class Problem:
    field: str | None
    message: str


def _recipient_problems(release: NewRelease) -> list[Problem]:
    if release.organization is None and release.person is None:
        return [Problem("organization", "Choose who may receive the information.")]
    if (
        release.organization is not None
        and release.person is not None
        and release.person.organization_id not in (None, release.organization.pk)
    ):
        return [
            Problem(
                "person",
                f"{release.person.name} is listed at another organisation in the directory; "
                "choose one of the two, or the organisation they work for.",
            )
        ]
    return []


def _what_problems(release: NewRelease) -> list[Problem]:
    problems = []
    if release.purpose not in Purpose.values:
        problems.append(Problem("purpose", "Choose one of the purposes offered."))
    if release.purpose == Purpose.OTHER and not release.purpose_detail.strip():
        problems.append(Problem("purpose_detail", "Describe the purpose when it is “Other”."))
    categories = set(release.categories)
    if not categories:
        problems.append(Problem("categories", "Tick at least one kind of information."))
    elif not categories <= set(Category.values):
        problems.append(Problem("categories", "Choose kinds of information from the list."))
    elif Category.SUD_COUNSELING_NOTES in categories and len(categories) > 1:
        problems.append(
            Problem(
                "categories",
                "SUD counseling notes need their own consent: untick the other kinds and "
                "record a second release for them.",
            )
        )
    return problems


def _date_problems(release: NewRelease, today: datetime.date, for_print: bool) -> list[Problem]:
    problems = []
    if release.all_future and release.purpose != Purpose.TPO:
        problems.append(
            Problem(
                "all_future",
                "Only a consent for treatment, payment and health care operations may cover "
                "all future disclosures; give an end date or event instead.",
            )
        )
    elif not (release.expires_on or release.expiry_event.strip() or release.all_future):
        problems.append(
            Problem("expires_on", "Give the date the release ends, or the event that ends it.")
        )
    if release.expires_on is not None and release.expires_on < release.starts_on:
        problems.append(Problem("expires_on", "The release cannot end before it starts."))
    if release.signed_on is not None and release.signed_on > today:
        problems.append(Problem("signed_on", "The signing date cannot be in the future."))
    if not for_print and release.signed_on is None:
        problems.append(Problem("signed_on", "Give the date it was signed."))
    return problems


def _signature_problems(release: NewRelease, client: Client) -> list[Problem]:
    problems = []
    if not release.signed_by_name.strip():
        problems.append(
            Problem("signed_by_name", "Type the name of the person who signed the release.")
        )
    if release.signed_how == Consent.SignedHow.ON_SCREEN:
        if not release.signer_confirmed:
            problems.append(
                Problem(
                    "signer_confirmed",
                    "Confirm that the client (or their representative) signed it on screen.",
                )
            )
    elif release.signed_how == Consent.SignedHow.PAPER:
        copy = release.signed_copy
        if copy is None:
            problems.append(
                Problem(
                    "signed_copy",
                    "Choose the scanned signed form (upload it to the client's documents first).",
                )
            )
        elif (
            copy.client_id != client.pk
            or copy.kind != Document.Kind.SIGNED_CONSENT
            or copy.removed_at is not None
        ):
            problems.append(
                Problem("signed_copy", "Choose one of this client's signed consent documents.")
            )
    else:
        problems.append(Problem("signed_how", "Say how the release was signed."))
    return problems


def release_problems(
    release: NewRelease, *, client: Client, today: datetime.date, for_print: bool = False
) -> list[Problem]:
    """Everything wrong with `release`, each tied to its form field; `for_print` skips the
    signature, which a form printed for signing on paper does not have yet."""
    problems = _recipient_problems(release) + _what_problems(release)
    problems += _date_problems(release, today, for_print)
    if not for_print:
        problems += _signature_problems(release, client)
    return problems


def _check_directory(release: NewRelease, client: Client) -> None:
    for entry in (release.organization, release.person):
        if entry is not None and (entry.agency_id != client.agency_id or not entry.is_active):
            raise ReleaseError("Choose a recipient from your agency's directory.", "organization")


def _require_coordinator(by: User, client: Client) -> None:
    if not access.may_coordinate(by):
        raise CoordinationError("Your role does not record releases of information.")
    if client.agency_id != by.agency_id:
        raise CoordinationError("This client belongs to another agency.")


def consent_record(
    *, client: Client, by: User, release: NewRelease, submission_key: str = ""
) -> Consent:
    """Record a release the client signed (one per submission key)."""
    _require_coordinator(by, client)
    assert client.agency is not None
    problems = release_problems(release, client=client, today=client.agency.today())
    if problems:
        raise ReleaseError(problems[0].message, problems[0].field)
    _check_directory(release, client)
    with transaction.atomic():
        submission = submission_claim(
            agency=client.agency, by=by, purpose=CONSENT_RECORD, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(Consent, submission.earlier_object_id, client=client)
        on_screen = release.signed_how == Consent.SignedHow.ON_SCREEN
        assert release.signed_on is not None  # release_problems requires it
        consent = Consent.objects.create(
            agency_id=client.agency_id,
            client=client,
            organization=release.organization,
            person=release.person,
            purpose=release.purpose,
            purpose_detail=release.purpose_detail.strip(),
            categories=[c for c in Category.values if c in set(release.categories)],
            starts_on=release.starts_on,
            expires_on=release.expires_on,
            expiry_event=ALL_FUTURE_TPO if release.all_future else release.expiry_event.strip(),
            signed_how=release.signed_how,
            signed_by_name=release.signed_by_name.strip(),
            signed_on=release.signed_on,
            signed_copy=None if on_screen else release.signed_copy,
            recorded_by=by,
        )
        submission_complete(submission, consent.pk)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=consent,
            client_id=client.pk,
            detail={"part2": consent.is_part2, "signed_how": consent.signed_how},
        )
        timeline_add(
            client=client,
            kind="release",
            summary=f"Release of information recorded ({consent.get_purpose_display()})",
            actor=by,
        )
    return consent


def consent_revoke(*, consent: Consent, by: User, note: str) -> Consent:
    """The client revoked the release: it stops covering disclosures from this moment.

    Revoking an already revoked release changes nothing (a second click, another tab)."""
    _require_coordinator(by, consent.client)
    note = note.strip()
    if not note:
        raise ReleaseError("Say how the client revoked it (e.g. in writing, by phone).", "note")
    if len(note) > 300:
        raise ReleaseError("Keep the note under 300 characters.", "note")
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.revocation_note = note
        locked.save(update_fields=["revoked_at", "revoked_by", "revocation_note"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"revoked": True},
        )
        timeline_add(
            client=consent.client,
            kind="release",
            summary="Release of information revoked",
            actor=by,
        )
    return locked


def consent_end(*, consent: Consent, by: User, ended_on: datetime.date) -> Consent:
    """The event that ends the release happened on `ended_on`: from that day it covers nothing."""
    _require_coordinator(by, consent.client)
    assert consent.client.agency is not None
    today = consent.client.agency.today()
    if ended_on > today:
        raise ReleaseError("The event has to have happened: give a date up to today.", "ended_on")
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if not locked.expiry_event or locked.expiry_event == ALL_FUTURE_TPO:
            raise ReleaseError("This release does not end on an event.", "ended_on")
        if locked.ended_on is not None:
            if locked.ended_on == ended_on:
                return locked
            raise ReleaseError(
                f"This release already ended on {locked.ended_on:%m/%d/%Y}.", "ended_on"
            )
        if ended_on < locked.starts_on:
            raise ReleaseError("The release cannot end before it starts.", "ended_on")
        locked.ended_on = ended_on
        locked.save(update_fields=["ended_on"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"ended_on": ended_on.isoformat()},
        )
        timeline_add(
            client=consent.client,
            kind="release",
            summary="Release of information ended (its expiry event happened)",
            actor=by,
        )
    return locked
