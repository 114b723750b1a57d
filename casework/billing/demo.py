"""Demo billing: claim settings, the standard catalogue, and a few days of signed notes with charges.

Everything goes through the real services (signing makes the charges), so the demo shows what
an agency would see: ready charges, a few held ones with their reasons, and drafts to finish.
"""

from __future__ import annotations

import datetime
import random

from casework.billing.models import ClaimSettings, ServiceCode
from casework.billing.services.catalogue import catalogue_seed
from casework.clients.models import CareTeamMember, Client
from casework.core.models import Agency, Role, User
from casework.core.validators import npi_is_valid
from casework.notes.models import Note
from casework.notes.services import (
    NoteStart,
    late_days,
    may_cosign,
    note_cosign,
    note_create,
    note_save_draft,
    note_sign,
)

NARRATIVES = [
    (
        "Home visit. Client reported sleeping better since the new dose; kitchen stocked.",
        "Stable; engaged and future-oriented. No safety concerns voiced.",
        "Drive to the psychiatrist next Tuesday at 10:00; call pharmacy about refill.",
    ),
    (
        "Drove client to the food bank and pharmacy; helped budget for the week.",
        "Making progress on the budgeting goal; some anxiety in crowded places.",
        "Practise the budget sheet together at the next visit.",
    ),
    (
        "Phone check-in. Client missed yesterday's medication, said the pills 'feel wrong'.",
        "Early sign of the medication-doubt pattern; client open to talking with prescriber.",
        "Call the psychiatrist's nurse today; visit on Thursday with a pill organiser.",
    ),
    (
        "Met with client and landlord about the late rent notice.",
        "Housing at risk but landlord willing to accept a payment plan.",
        "Apply for county rental assistance this week; follow up with landlord Friday.",
    ),
]


def _npi(seed: int) -> str:
    prefix = f"1{seed:08d}"
    return next(prefix + d for d in "0123456789" if npi_is_valid(prefix + d))


def seed_billing(
    *, agency: Agency, admin: User, staff: list[User], today: datetime.date, rng: random.Random
) -> None:
    Agency.objects.filter(pk=agency.pk).update(postal_code="98101-2345")
    agency.refresh_from_db()
    ClaimSettings.objects.create(
        agency=agency,
        submitter_id="CASCADEDEMO",
        submitter_contact="Bea Castillo",
        submitter_phone="2065550100",
        interchange_sender_id="CASCADEDEMO",
    )
    catalogue_seed(agency=agency, by=admin)
    for index, user in enumerate(staff, start=1):
        if user.has_role(Role.CASE_MANAGER, Role.SUPERVISOR):
            User.objects.filter(pk=user.pk).update(npi=_npi(4_200_000 + index))
            user.npi = _npi(4_200_000 + index)
    _seed_notes(agency=agency, today=today, rng=rng)
    _cosign_most(agency=agency, supervisors=[u for u in staff if u.has_role(Role.SUPERVISOR)])


def _cosign_most(*, agency: Agency, supervisors: list[User], leave: int = 4) -> None:
    """Supervisors have co-signed all but the last few notes, which wait in their queue."""
    waiting = list(
        Note.objects.filter(agency=agency, cosign_required=True, cosigned_at__isnull=True)
        .select_related("author")
        .order_by("signed_at", "id")
    )
    for note in waiting[: max(len(waiting) - leave, 0)]:
        supervisor = next((s for s in supervisors if may_cosign(s, note)), None)
        if supervisor is not None:
            note_cosign(note=note, by=supervisor)


def _seed_notes(*, agency: Agency, today: datetime.date, rng: random.Random) -> None:
    """Two or three recent contacts for each case manager's first clients, signed on time."""
    codes = {c.code: c for c in ServiceCode.objects.filter(agency=agency, modifiers="")}
    primaries = (
        CareTeamMember.objects.filter(agency=agency, role="primary", end_on__isnull=True)
        .select_related("client", "staff")
        .order_by("staff_id", "client_id")
    )
    per_author: dict[int, int] = {}
    tz = agency.tzinfo
    for member in primaries:
        count = per_author.get(member.staff_id, 0)
        if count >= 6:
            continue
        per_author[member.staff_id] = count + 1
        for days_ago in sorted(rng.sample([0, 1, 2], k=rng.choice([1, 2]))):
            day = today - datetime.timedelta(days=days_ago)
            start = datetime.datetime.combine(
                day, datetime.time(8 + 2 * count, rng.choice([0, 15, 30])), tzinfo=tz
            )
            if start > datetime.datetime.now(tz) - datetime.timedelta(hours=2):
                continue
            _signed_note(
                client=member.client,
                author=member.staff,
                code=codes["T1016" if rng.random() < 0.7 else "H0036"],
                start=start,
                minutes=rng.choice([20, 25, 35, 45, 50, 60]),
                narrative=rng.choice(NARRATIVES),
                place=rng.choice(["12", "12", "99", "11"]),
            )
        if count == 0 and member.staff.email.startswith("casemanager@"):
            _draft(member.client, member.staff, codes["T1016"], today - datetime.timedelta(days=1))


def _signed_note(
    *,
    client: Client,
    author: User,
    code: ServiceCode,
    start: datetime.datetime,
    minutes: int,
    narrative: tuple[str, str, str],
    place: str,
) -> None:
    note = note_create(
        client=client,
        author=author,
        start=NoteStart(
            service_date=start.date(),
            start_at=start,
            end_at=start + datetime.timedelta(minutes=minutes),
            place_of_service=place,
            service_code_id=code.pk,
            present="Client",
        ),
    )
    data, assessment, plan = narrative
    note = note_save_draft(
        note=note,
        by=author,
        data={"sections": {"data": data, "assessment": assessment, "plan": plan}},
        expected_version=note.version,
    )
    # A demo built for another day (tests pin it) signs its notes "late" by the calendar.
    late_reason = "Entered with the demo data." if late_days(note) else ""
    note_sign(note=note, by=author, attest=True, late_reason=late_reason)


def _draft(client: Client, author: User, code: ServiceCode, day: datetime.date) -> None:
    """An unfinished note, so the unsigned-notes queue has something in it."""
    note_create(
        client=client,
        author=author,
        start=NoteStart(service_date=day, service_code_id=code.pk, place_of_service="12"),
    )
