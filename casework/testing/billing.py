"""A billable world for tests: claim settings, a payer, codes with rates, a covered client in an
episode with a diagnosis, and a credentialed case manager with an NPI."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from casework.billing.models import ClaimSettings, FeeRate, Payer, ServiceCode
from casework.clients.models import Client, Coverage, Diagnosis, Episode
from casework.core.models import Agency, Credential, Program, User
from casework.core.validators import npi_is_valid
from casework.notes.models import Note
from casework.notes.services import NoteStart, note_create, note_save_draft
from casework.testing.personas import Cast


def npi(prefix9: str) -> str:
    """A valid NPI starting with the nine given digits."""
    return next(prefix9 + d for d in "0123456789" if npi_is_valid(prefix9 + d))


@dataclass
class Billable:
    payer: Payer
    t1016: ServiceCode
    h0023: ServiceCode
    non_billable: ServiceCode
    settings: ClaimSettings


def make_claimable_agency(agency: Agency) -> ClaimSettings:
    Agency.objects.filter(pk=agency.pk).update(
        npi=npi("123456789"),
        tax_id="91-1234567",
        address_line1="100 Main St",
        city="Seattle",
        state="WA",
        postal_code="98101-1234",
    )
    agency.refresh_from_db()
    return ClaimSettings.objects.get_or_create(
        agency=agency,
        defaults={
            "submitter_id": "CW0001",
            "submitter_contact": "Billing Office",
            "submitter_phone": "2065550100",
            "interchange_sender_id": "CW0001",
        },
    )[0]


def make_billable_client(client: Client, payer: Payer, *, since: datetime.date) -> None:
    program = Program.objects.get_or_create(agency_id=client.agency_id, name="Case management")[0]
    Coverage.objects.create(
        agency_id=client.agency_id,
        client=client,
        payer=payer,
        member_id=f"M{client.pk:08d}",
        start_on=since,
    )
    Episode.objects.create(
        agency_id=client.agency_id, client=client, program=program, admitted_on=since
    )
    Diagnosis.objects.create(
        agency_id=client.agency_id,
        client=client,
        code="F20.9",
        description="Schizophrenia, unspecified",
        rank=Diagnosis.Rank.PRIMARY,
    )


def make_credentialed(user: User, *, kind: str = "aac_licensed", nine: str = "987654321") -> None:
    Credential.objects.create(
        agency_id=user.agency_id,
        user=user,
        kind=kind,
        number=f"LC{user.pk:08d}",
        issued_on=datetime.date(2020, 1, 1),
        expires_on=timezone.now().date() + datetime.timedelta(days=365),
        attested_on=datetime.date(2020, 1, 2),
        background_check=Credential.BackgroundCheck.CLEARED,
        supervision_required=False,
    )
    User.objects.filter(pk=user.pk).update(npi=npi(nine))
    user.refresh_from_db()


def billable_world(cast: Cast) -> Billable:
    agency = cast.agency
    settings = make_claimable_agency(agency)
    payer = Payer.objects.create(
        agency=agency, name="Apple Health MCO", kind=Payer.Kind.MEDICAID_MCO, payer_id="77045"
    )
    t1016 = ServiceCode.objects.create(
        agency=agency, code="T1016", description="Case management", unit_type="15min"
    )
    h0023 = ServiceCode.objects.create(
        agency=agency,
        code="H0023",
        description="Behavioral health outreach",
        unit_type="encounter",
        minimum_minutes=8,
    )
    non_billable = ServiceCode.objects.create(
        agency=agency,
        code="99199",
        description="Non-billable contact",
        unit_type="encounter",
        is_billable=False,
    )
    since = datetime.date(2026, 1, 1)
    for code, rate in ((t1016, "25.00"), (h0023, "60.00")):
        FeeRate.objects.create(
            agency=agency, service_code=code, effective_from=since, rate=Decimal(rate)
        )
    make_billable_client(cast.client, payer, since=since)
    make_credentialed(cast.case_manager)
    return Billable(payer, t1016, h0023, non_billable, settings)


def local(
    day: datetime.date, hour: int, minute: int = 0, agency: Agency | None = None
) -> datetime.datetime:
    tz = agency.tzinfo if agency else timezone.get_current_timezone()
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def draft_note(
    *,
    author: User,
    client: Client,
    code: ServiceCode | None,
    day: datetime.date,
    start: tuple[int, int] = (10, 0),
    minutes: int = 30,
    contact_type: str = "face_to_face",
    place: str = "12",
) -> Note:
    """A complete draft (DAP sections written) ready to sign."""
    assert client.agency is not None
    start_at = local(day, *start, agency=client.agency)
    end_at = start_at.astimezone(datetime.UTC) + datetime.timedelta(minutes=minutes)
    note = note_create(
        client=client,
        author=author,
        start=NoteStart(
            service_date=day,
            start_at=start_at,
            end_at=end_at,
            contact_type=contact_type,
            place_of_service=place,
            service_code_id=code.pk if code else None,
            template="dap",
        ),
    )
    return note_save_draft(
        note=note,
        by=author,
        data={
            "sections": {"data": "Met at home.", "assessment": "Stable.", "plan": "Visit Tuesday."}
        },
        expected_version=note.version,
    )
