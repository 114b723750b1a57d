"""Demo appointments, tasks and early warnings, made through the real services.

Each case manager's day shows what the field looks like: a drive to a psychiatrist with the
client's own appointment inside the block, a weekly home visit that was missed last week (so
a follow-up task waits on My day), a phone call; the week ahead has an errand. Holidays,
pool cars, contact standards and client acuity make the rest of My day and the team board real.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.models import Agency, Program, Role, User
from casework.notes.models import ContactType, MedicationAdherence, Note
from casework.notes.services import ATTESTATION, NoteStart, note_create, note_save_draft, note_sign
from casework.schedule import outcomes, services, services_setup
from casework.schedule.models import AppointmentKind, PlaceType, Resource, TravelLeg
from casework.schedule.services import AppointmentInput
from casework.worklist.services import task_create
from casework.worklist.warnings import evaluate_agency

INTENSIVE_CONTACT_DAYS = 7


def _federal_holidays(year: int) -> list[tuple[datetime.date, str]]:
    """US federal holidays of a year (observed dates of fixed ones are not shifted: demo only)."""

    def nth(weekday: int, n: int, month: int) -> datetime.date:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last(weekday: int, month: int) -> datetime.date:
        day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
        return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)

    return [
        (datetime.date(year, 1, 1), "New Year's Day"),
        (nth(0, 3, 1), "Martin Luther King Jr. Day"),
        (nth(0, 3, 2), "Presidents' Day"),
        (last(0, 5), "Memorial Day"),
        (datetime.date(year, 6, 19), "Juneteenth"),
        (datetime.date(year, 7, 4), "Independence Day"),
        (nth(0, 1, 9), "Labor Day"),
        (nth(0, 2, 10), "Indigenous Peoples' Day"),
        (datetime.date(year, 11, 11), "Veterans Day"),
        (nth(3, 4, 11), "Thanksgiving Day"),
        (datetime.date(year, 12, 25), "Christmas Day"),
    ]


def _at(agency: Agency, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=agency.tzinfo)


def _book(
    agency: Agency,
    by: User,
    client: Client,
    kind: str,
    start: datetime.datetime,
    minutes: int,
    place_type: str,
    **extra: object,
) -> object:
    data = AppointmentInput(
        kind=kind,
        staff=by,
        clients=[client],
        start_at=start,
        end_at=start + datetime.timedelta(minutes=minutes),
        place_type=place_type,
        **extra,  # type: ignore[arg-type]
    )
    return services.appointment_create(data=data, by=by, confirm_conflicts=True)


def _day_of(
    agency: Agency, by: User, clients: list[Client], today: datetime.date, car: Resource
) -> None:
    drive, visit, call, errand = clients[:4]
    _book(
        agency,
        by,
        drive,
        AppointmentKind.TRANSPORT,
        _at(agency, today, 9),
        180,
        PlaceType.CLINIC,
        place="Harbor Mental Health Clinic, 401 Broadway",
        purpose="Medication review",
        resource=car,
        external_with="Dr. Rivera, psychiatry",
        external_place="Harbor Mental Health Clinic",
        external_start_at=_at(agency, today, 10),
        external_end_at=_at(agency, today, 10, 30),
        legs=[
            (TravelLeg.Purpose.TO_CLIENT, Decimal("4.2")),
            (TravelLeg.Purpose.TO_APPOINTMENT, Decimal("6.8")),
            (TravelLeg.Purpose.RETURN, Decimal("11.0")),
        ],
    )
    weekly = services.appointment_create(
        data=AppointmentInput(
            kind=AppointmentKind.HOME_VISIT,
            staff=by,
            clients=[visit],
            start_at=_at(agency, today - datetime.timedelta(days=21), 13, 30),
            end_at=_at(agency, today - datetime.timedelta(days=21), 14, 30),
            place_type=PlaceType.CLIENT_HOME,
            purpose="Weekly visit: medications, groceries, housing",
        ),
        by=by,
        rule="FREQ=WEEKLY",
        skip_holidays=False,
        confirm_conflicts=True,
    )
    occurrences = list(weekly.series.appointments.order_by("start_at")[:3])  # type: ignore[union-attr]
    statuses = (
        ["attended", "no_show", "no_show"]
        if by.has_role(Role.SUPERVISOR)
        else [
            "attended",
            "attended",
            "no_show",
        ]
    )
    for occurrence, status in zip(occurrences, statuses, strict=True):
        outcomes.appointment_outcome(appointment=occurrence, by=by, status=status)
    _book(
        agency,
        by,
        call,
        AppointmentKind.PHONE_VIDEO,
        _at(agency, today, 15, 30),
        30,
        PlaceType.REMOTE,
    )
    _book(
        agency,
        by,
        errand,
        AppointmentKind.ERRAND,
        _at(agency, today + datetime.timedelta(days=1), 10),
        120,
        PlaceType.COMMUNITY,
        place="Safeway, 15th Ave",
        purpose="Grocery shopping on the food budget",
    )


def _seed_contact_history(agency: Agency, today: datetime.date, rng: random.Random) -> None:
    """Each client's last contact some days ago, so "not seen for too long" picks out a few.

    Written straight to the table (non-billable, so no charge is owed) to keep the demo fast.
    """
    primaries = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), role=CareTeamMember.Role.PRIMARY, agency=agency
    ).values_list("client_id", "staff_id")
    notes = []
    staff = {user.pk: user for user in User.objects.filter(agency=agency)}
    for client_id, staff_id in primaries.order_by("client_id"):
        author = staff[staff_id]
        ago = rng.randint(1, 6) if rng.random() < 0.85 else rng.randint(8, 24)
        day = today - datetime.timedelta(days=ago)
        start = _at(agency, day, rng.choice([9, 10, 11, 13, 14]))
        notes.append(
            Note(
                agency=agency,
                client_id=client_id,
                author_id=staff_id,
                status=Note.Status.SIGNED,
                service_date=day,
                start_at=start,
                end_at=start + datetime.timedelta(minutes=30),
                contact_type=rng.choice([ContactType.FACE_TO_FACE, ContactType.PHONE]),
                template="free",
                sections={
                    "narrative": "Check-in: how the week went, medications, next appointments."
                },
                present="Client",
                signed_at=start + datetime.timedelta(hours=2),
                minutes=30,
                attestation=ATTESTATION,
                # As note_sign fixes it: a 42 CFR Part 2 program's notes are its staff's.
                program_id=access.note_program_for(author=author, client_id=client_id, on=day),
            )
        )
    Note.objects.bulk_create(notes)


def _medication_stopped(manager: User, client: Client, today: datetime.date) -> None:
    """A phone call where the client says they stopped a medication: an early warning."""
    yesterday = today - datetime.timedelta(days=1)
    start = _at(manager.agency, yesterday, 16)  # type: ignore[arg-type]
    note = note_create(
        client=client,
        author=manager,
        start=NoteStart(
            service_date=yesterday,
            start_at=start,
            end_at=start + datetime.timedelta(minutes=15),
            contact_type=ContactType.PHONE,
            template="free",
            present="Client",
        ),
    )
    note = note_save_draft(
        note=note,
        by=manager,
        data={
            "sections": {
                "narrative": "Says he stopped the risperidone last week: “it makes me foggy.”"
            },
            "medication_adherence": MedicationAdherence.STOPPED,
        },
        expected_version=note.version,
    )
    note_sign(note=note, by=manager, attest=True)


def seed_schedule(*, agency: Agency, today: datetime.date, rng: random.Random) -> None:
    """Holidays, pool cars, contact standards, acuity, each case manager's week, tasks, warnings."""
    admin = User.objects.filter(agency=agency, role_rows__role=Role.AGENCY_ADMIN).first()
    assert admin is not None
    for year in (today.year, today.year + 1):
        for day, name in _federal_holidays(year):
            services_setup.holiday_save(by=admin, day=day, name=name)
    car = services_setup.resource_save(
        by=admin, name="Pool car 1 (Corolla)", kind=Resource.Kind.VEHICLE
    )
    services_setup.resource_save(by=admin, name="Pool car 2 (Prius)", kind=Resource.Kind.VEHICLE)
    services_setup.resource_save(by=admin, name="Group room", kind=Resource.Kind.ROOM)
    Program.objects.filter(agency=agency, code="ICM").update(
        contact_every_days=INTENSIVE_CONTACT_DAYS
    )
    _seed_contact_history(agency, today, rng)
    for client in Client.objects.filter(agency=agency).order_by("pk"):
        acuity = rng.choices([1, 2, 3], weights=[3, 5, 2], k=1)[0]
        Client.objects.filter(pk=client.pk).update(acuity=acuity)
    supervisor = User.objects.filter(agency=agency, email__startswith="supervisor@").first()
    for manager in User.objects.filter(agency=agency, role_rows__role=Role.CASE_MANAGER).order_by(
        "pk"
    ):
        clients = [
            member.client
            for member in CareTeamMember.objects.filter(
                CareTeamMember.active_on(today), staff=manager, role=CareTeamMember.Role.PRIMARY
            )
            .select_related("client")
            .order_by("client__legal_last_name", "client_id")[:4]
        ]
        if len(clients) < 4:
            continue
        _day_of(agency, manager, clients, today, car)
        if manager.email.startswith("casemanager@"):
            _medication_stopped(manager, clients[1], today)
        if supervisor is not None and supervisor.pk != manager.pk:
            task_create(
                assignee=manager,
                title=f"Bring {clients[0].display_name}'s signed release to Dr. Rivera's office",
                by=supervisor,
                client=clients[0],
                reason="The clinic asked for it before the next medication review.",
                due_on=today + datetime.timedelta(days=1),
            )
    evaluate_agency(agency_id=agency.pk)
