"""The communications log: contacts with people about a client, and their billable notes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.coordination.models import Communication, Person
from casework.coordination.services_communications import NewCommunication, communication_log
from casework.core.models import AuditEvent
from casework.notes.models import ContactType, Note
from casework.testing.coordination import OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _url(cast, suffix: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{cast.client.pk}/communications/{suffix}"


def _form(cast, **changes: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    when = timezone.now().astimezone(cast.agency.tzinfo) - datetime.timedelta(hours=1)
    data: dict[str, object] = {
        "occurred_on": when.date().isoformat(),
        "occurred_time": f"{when:%H:%M}",
        "channel": Communication.Channel.CALL,
        "direction": Communication.Direction.OUTGOING,
        "person": "",
        "organization": "",
        "with_name": "",
        "with_role": "",
        "minutes": "15",
        "summary": "Talked about the move-in date.",
        "outcome": "",
        "submission_key": "c-1",
    }
    data.update(changes)
    return data


def test_a_case_manager_logs_a_call_with_someone_of_the_directory_and_sees_it_listed(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    clinic = OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")
    doctor = PersonFactory(agency=cast.agency, organization=clinic, name="Dr. Ana Ruiz")
    http = http_as(cast.case_manager)
    assert http.get(_url(cast, "new/")).status_code == 200

    response = http.post(
        _url(cast, "new/"), _form(cast, person=doctor.pk, outcome="Refill sent to pharmacy")
    )

    assert response.status_code == 302
    contact = Communication.objects.get()
    assert contact.person == doctor and contact.with_role == Person.Role.PSYCHIATRIST
    assert contact.minutes == 15 and contact.staff == cast.case_manager
    assert AuditEvent.objects.filter(
        action="create", object_type="coordination.communication"
    ).exists()
    page = http.get(_url(cast)).content.decode()
    assert "Dr. Ana Ruiz" in page and "Refill sent to pharmacy" in page
    assert "Write a billable note for this contact" in page


def test_someone_outside_the_directory_is_logged_by_name_and_role_and_unicode_is_kept(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    summary = "Habló con la tía — 住所の確認 — she\u2019ll bring the lease 🙂"
    name = "Zoë Ñúñez-O\u2019Brien"
    response = http.post(
        _url(cast, "new/"),
        _form(cast, with_name=name, with_role=Person.Role.FAMILY, summary=summary),
    )
    assert response.status_code == 302
    contact = Communication.objects.get()
    assert contact.with_name == name and contact.summary == summary
    page = http.get(_url(cast)).content.decode()
    assert name in page and "住所の確認" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "Say who it was with"),
        ({"with_name": "Tía Rosa"}, "Say what role the person has"),
        (
            {"with_name": "Tía Rosa", "with_role": "family", "summary": "  "},
            "This field is required",
        ),
        (
            {"with_name": "Tía Rosa", "with_role": "family", "occurred_on": "2999-01-01"},
            "has happened",
        ),
        (
            {"with_name": "Tía Rosa", "with_role": "family", "minutes": "0"},
            "greater than or equal to 1",
        ),
        ({"with_name": "x" * 201, "with_role": "family"}, "at most 200 characters"),
    ],
)
def test_a_contact_needs_someone_named_and_what_was_discussed(
    cast, http_as, changes, message
) -> None:  # type: ignore[no-untyped-def]
    data = _form(cast, summary="Keep this text", outcome="Also kept")
    data.update(changes)
    response = http_as(cast.case_manager).post(_url(cast, "new/"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Also kept" in page  # what was typed is kept
    assert not Communication.objects.exists()


def test_the_service_refuses_a_contact_with_nobody_named(cast) -> None:  # type: ignore[no-untyped-def]
    from casework.coordination.errors import CoordinationError

    with pytest.raises(CoordinationError, match="Say who it was with"):
        communication_log(
            client=cast.client,
            by=cast.case_manager,
            entry=NewCommunication(
                occurred_at=timezone.now(), channel=Communication.Channel.CALL, summary="Hi"
            ),
        )


def test_a_double_submit_logs_one_contact(cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = _form(cast, with_name="Tía Rosa", with_role="family", submission_key="twice")
    http.post(_url(cast, "new/"), data)
    http.post(_url(cast, "new/"), data)
    assert Communication.objects.count() == 1


def test_the_billable_note_starts_as_a_collateral_contact_for_the_same_time_and_minutes(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    when = timezone.now() - datetime.timedelta(hours=2)
    contact = communication_log(
        client=cast.client,
        by=cast.case_manager,
        entry=NewCommunication(
            occurred_at=when,
            channel=Communication.Channel.CALL,
            summary="Coordinated the discharge",
            with_name="Hospital social worker",
            with_role=Person.Role.OTHER,
            minutes=25,
        ),
    )
    http = http_as(cast.case_manager)
    url = _url(cast, f"{contact.pk}/note/")

    response = http.post(url, {"submission_key": "n-1"})

    note = Note.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/edit/"
    assert note.contact_type == ContactType.COLLATERAL
    assert note.start_at == when and note.end_at == when + datetime.timedelta(minutes=25)
    assert note.service_date == when.astimezone(cast.agency.tzinfo).date()
    contact.refresh_from_db()
    assert contact.note == note
    again = http.post(url, {"submission_key": "n-2"})
    assert again["Location"] == f"/notes/{note.pk}/edit/" and Note.objects.count() == 1
    assert "Service note" in http.get(_url(cast)).content.decode()


def test_communications_are_read_only_by_those_who_may_read_narratives(cast, http_as) -> None:  # type: ignore[no-untyped-def]
    assert http_as(cast.billing).get(_url(cast)).status_code == 403
    cast.agency.billing_sees_narratives = True
    cast.agency.save()
    http = http_as(cast.billing)
    assert http.get(_url(cast)).status_code == 200
    assert http.get(_url(cast, "new/")).status_code == 403
    assert http_as(cast.auditor).get(_url(cast)).status_code == 403
    assert http_as(cast.supervisor).get(_url(cast)).status_code == 200


def _queries(http, url: str) -> int:  # type: ignore[no-untyped-def]
    http.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_the_communications_list_takes_the_same_queries_for_one_contact_or_many(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    clinic = OrganizationFactory(agency=cast.agency)

    def log(n: int) -> None:
        contact = communication_log(
            client=cast.client,
            by=cast.case_manager,
            entry=NewCommunication(
                occurred_at=timezone.now() - datetime.timedelta(minutes=n),
                channel=Communication.Channel.MEETING,
                summary=f"Meeting {n}",
                organization=clinic,
                person=PersonFactory(agency=cast.agency, organization=clinic),
                minutes=30,
            ),
        )
        if n % 2:
            http.post(_url(cast, f"{contact.pk}/note/"), {"submission_key": f"n{n}"})

    log(1)
    one = _queries(http, _url(cast))
    for n in range(2, 9):
        log(n)
    assert _queries(http, _url(cast)) == one
