"""Changing a chart: details, records, care team, flags, merge. Every change on the timeline and audited."""

from __future__ import annotations

import datetime
import re

import pytest

from casework.clients import selectors, services
from casework.clients.models import (
    CareTeamMember,
    Client,
    Diagnosis,
    Phone,
    SafetyFlag,
    TimelineEvent,
)
from casework.core.models import AuditEvent
from casework.testing.factories import ClientFactory, PayerFactory, UserFactory, assign
from casework.testing.personas import Cast


@pytest.mark.django_db
def test_editing_details_refreshes_search_and_records_what_changed(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = {
        "legal_first_name": "María",
        "legal_last_name": "Quispe",
        "date_of_birth": "1970-05-17",
        "sex_for_billing": "F",
        "primary_language": "Spanish",
        "interpreter_needed": "on",
    }
    assert http.post(f"/clients/{cast.client.pk}/edit/", data).status_code == 302
    cast.client.refresh_from_db()
    assert cast.client.legal_last_name == "Quispe" and cast.client.interpreter_needed
    assert cast.client in [
        c for c in selectors.client_search(user=cast.case_manager, query="quispe").clients
    ]
    event = TimelineEvent.objects.filter(client=cast.client, kind="updated").latest("id")
    assert "legal last name" in event.summary
    assert AuditEvent.objects.filter(client_id=cast.client.pk, action="update").exists()


@pytest.mark.django_db
def test_billing_can_read_but_not_edit(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.billing)
    assert http.get(f"/clients/{cast.client.pk}/").status_code == 200
    assert http.get(f"/clients/{cast.client.pk}/edit/").status_code == 403
    assert (
        http.post(
            f"/clients/{cast.client.pk}/add/phone/", {"number": "2065550100", "kind": "mobile"}
        ).status_code
        == 403
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("F2O.0", "not in the ICD-10-CM code set"),
        ("2F0.0", "not shaped like an ICD-10-CM code"),
        ("banana", "not shaped like an ICD-10-CM code"),
        ("F20", "is a category"),
        ("F20.00000", "at most 8 characters"),
        ("F99.9", "not in the ICD-10-CM code set"),
    ],
)
def test_bad_icd10_codes_get_specific_messages(
    cast: Cast, http_as, code: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/add/diagnosis/", {"code": code, "rank": "primary"}
    )
    assert message in response.content.decode()
    assert not Diagnosis.objects.filter(client=cast.client).exists()


@pytest.mark.django_db
def test_diagnosis_description_comes_from_the_code_set(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/add/diagnosis/", {"code": "f25.0", "rank": "primary"}
    )
    diagnosis = Diagnosis.objects.get(client=cast.client)
    assert (diagnosis.code, diagnosis.description) == (
        "F25.0",
        "Schizoaffective disorder, bipolar type",
    )


@pytest.mark.django_db
def test_phone_preferences_are_saved_and_shown(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    http.post(
        f"/clients/{cast.client.pk}/add/phone/",
        {"number": "(206) 555-0142", "kind": "mobile", "safe_to_text": "on"},
    )
    phone = Phone.objects.get(client=cast.client)
    assert phone.safe_to_text and not phone.may_leave_voicemail
    body = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "no voicemail" in body and "text OK" in body


@pytest.mark.django_db
def test_bad_phone_and_backwards_dates_are_refused(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    assert (
        "7 to 15 digits"
        in http.post(
            f"/clients/{cast.client.pk}/add/phone/", {"number": "12", "kind": "mobile"}
        ).content.decode()
    )
    payer = PayerFactory(agency=cast.agency)
    response = http.post(
        f"/clients/{cast.client.pk}/add/coverage/",
        {
            "payer": payer.pk,
            "member_id": "X1",
            "priority": 1,
            "start_on": "2025-05-01",
            "end_on": "2025-01-01",
        },
    )
    assert "cannot end before it starts" in response.content.decode()


@pytest.mark.django_db
def test_payers_of_another_agency_cannot_be_chosen(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    foreign = PayerFactory(agency=cast.outsider_agency)
    response = http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/add/coverage/",
        {"payer": foreign.pk, "member_id": "X1", "priority": 1, "start_on": "2025-05-01"},
    )
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_safety_flag_shows_on_chart_until_removed_and_stays_in_history(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    http.post(
        f"/clients/{cast.client.pk}/add/flag/",
        {"kind": "visit_in_pairs", "detail": "After March incident"},
    )
    flag = SafetyFlag.objects.get(client=cast.client)
    assert "Do not visit alone" in http.get(f"/clients/{cast.client.pk}/edit/").content.decode()
    http.post(f"/clients/{cast.client.pk}/flags/{flag.pk}/remove/")
    flag.refresh_from_db()
    assert not flag.is_active
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert '<li class="flag">' not in chart
    assert "Flag removed: Do not visit alone" in chart


@pytest.mark.django_db
def test_reassignment_takes_effect_on_its_date_and_keeps_history(cast: Cast) -> None:
    today = cast.agency.today()
    services.caseload_reassign(
        client=cast.client,
        to=cast.colleague,
        effective=today,
        by=cast.supervisor,
        reason="caseload balance",
    )
    rows = list(
        CareTeamMember.objects.filter(client=cast.client, role="primary").order_by("start_on")
    )
    assert [(r.staff, r.end_on) for r in rows] == [
        (cast.case_manager, today),
        (cast.colleague, None),
    ]
    assert (
        "caseload balance" in TimelineEvent.objects.filter(client=cast.client).latest("id").summary
    )


@pytest.mark.django_db
def test_future_reassignment_keeps_the_current_case_manager_until_then(cast: Cast) -> None:
    from casework.clients.selectors import my_caseload

    later = cast.agency.today() + datetime.timedelta(days=7)
    services.caseload_reassign(
        client=cast.client, to=cast.colleague, effective=later, by=cast.supervisor
    )
    assert cast.client in my_caseload(user=cast.case_manager)
    assert cast.client not in my_caseload(user=cast.colleague)


@pytest.mark.django_db
def test_reassigning_to_staff_of_another_agency_is_refused(cast: Cast) -> None:
    with pytest.raises(services.ClientError, match="active staff member of this agency"):
        services.caseload_reassign(
            client=cast.client,
            to=cast.outsider_cm,
            effective=cast.agency.today(),
            by=cast.supervisor,
        )


@pytest.mark.django_db
def test_reassign_through_the_care_team_page(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.supervisor).post(
        f"/clients/{cast.client.pk}/care-team/",
        {"reassign": "1", "to": cast.colleague.pk, "effective": cast.agency.today().isoformat()},
    )
    assert response.status_code == 302
    assert (
        CareTeamMember.objects.get(client=cast.client, role="primary", end_on__isnull=True).staff
        == cast.colleague
    )


@pytest.mark.django_db
def test_merge_moves_everything_and_keeps_the_duplicate_marked(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    duplicate = ClientFactory(
        agency=cast.agency, legal_first_name="Maria", legal_last_name="OConnor Nunez"
    )
    Phone.objects.create(agency=cast.agency, client=duplicate, number="2065550199")
    assign(duplicate, cast.colleague, role="case_manager")
    response = http_as(cast.admin).post(
        "/clients/merge/",
        {"survivor": cast.client.record_number, "duplicate": duplicate.record_number},
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Client.Status.MERGED and duplicate.merged_into == cast.client
    assert Phone.objects.get(number="2065550199").client == cast.client
    assert CareTeamMember.objects.filter(client=cast.client, staff=cast.colleague).exists()
    assert AuditEvent.objects.filter(action="merge", client_id=duplicate.pk).exists()
    assert (
        duplicate
        not in selectors.client_search(
            user=cast.admin, query="Nunez", include_inactive=True
        ).clients
    )


@pytest.mark.django_db
def test_only_admins_merge_and_only_within_their_agency(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    assert http_as(cast.supervisor).get("/clients/merge/").status_code == 403
    response = http_as(cast.admin).post(
        "/clients/merge/",
        {"survivor": cast.client.record_number, "duplicate": cast.outsider_client.record_number},
    )
    assert "No record with that number" in response.content.decode()
    with pytest.raises(services.ClientError):
        services.client_merge(survivor=cast.client, duplicate=cast.client, by=cast.admin)


@pytest.mark.django_db
def test_deactivated_staff_keep_their_work(cast: Cast) -> None:
    from casework.core.services import staff_deactivate

    author = UserFactory(agency=cast.agency)
    flag = SafetyFlag.objects.create(
        agency=cast.agency, client=cast.client, kind="dog", created_by=author
    )
    staff_deactivate(user=author, by=cast.admin)
    flag.refresh_from_db()
    assert flag.created_by == author


@pytest.mark.django_db
def test_double_submitted_chart_record_is_saved_once(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = {"number": "(206) 555-0142", "kind": "mobile", "submission_key": "one-click"}
    first = http.post(f"/clients/{cast.client.pk}/add/phone/", data)
    second = http.post(f"/clients/{cast.client.pk}/add/phone/", data)
    assert first.status_code == second.status_code == 302
    assert Phone.objects.filter(client=cast.client).count() == 1


@pytest.mark.django_db
def test_times_show_in_the_agencys_time_zone(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    cast.agency.time_zone = "Pacific/Honolulu"
    cast.agency.save()
    TimelineEvent.objects.create(
        agency=cast.agency,
        client=cast.client,
        kind="x",
        summary="At noon UTC",
        occurred_at=datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC),
    )
    body = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/").content.decode()
    assert "06/01/2026 02:00" in body  # Honolulu is UTC-10


@pytest.mark.django_db
def test_concurrent_edits_do_not_silently_overwrite_each_other(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    base = {
        "legal_first_name": "María",
        "legal_last_name": "O'Connor-Núñez",
        "date_of_birth": "1970-05-17",
        "sex_for_billing": "U",
        "primary_language": "English",
    }
    opened_version = services.client_version(cast.client)
    colleague_saves = http_as(cast.colleague).post(
        f"/clients/{cast.client.pk}/edit/", {**base, "city": "Tacoma", "version": opened_version}
    )
    assert colleague_saves.status_code == 302
    mine = http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/edit/", {**base, "city": "Spokane", "version": opened_version}
    )
    body = mine.content.decode()
    assert mine.status_code == 200 and "Someone else saved this record" in body
    assert "Tacoma" in body and 'value="Spokane"' in body  # theirs shown, mine kept
    cast.client.refresh_from_db()
    assert cast.client.city == "Tacoma"
    fresh_version = re.search(r'name="version" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    again = http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/edit/", {**base, "city": "Spokane", "version": fresh_version}
    )
    assert again.status_code == 302
    cast.client.refresh_from_db()
    assert cast.client.city == "Spokane"


@pytest.mark.django_db
def test_merging_two_assigned_records_leaves_one_primary_case_manager(cast: Cast) -> None:
    duplicate = ClientFactory(agency=cast.agency)
    assign(duplicate, cast.colleague)
    services.client_merge(survivor=cast.client, duplicate=duplicate, by=cast.admin)
    open_primaries = CareTeamMember.objects.filter(
        client=cast.client, role="primary", end_on__isnull=True
    )
    assert [m.staff for m in open_primaries] == [cast.case_manager]
    assert CareTeamMember.objects.filter(
        client=cast.client, staff=cast.colleague, end_on__isnull=False
    ).exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_primary(cast: Cast) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        assign(cast.client, cast.colleague)


@pytest.mark.django_db
def test_a_refused_edit_keeps_the_stored_name_in_the_header(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.case_manager).post(
        f"/clients/{cast.client.pk}/edit/",
        {
            "legal_first_name": "Typed",
            "legal_last_name": "Newname",
            "date_of_birth": "2999-01-01",
            "sex_for_billing": "U",
            "primary_language": "English",
        },
    )
    body = response.content.decode()
    assert "date of birth is in the future" in body
    assert f"<h1>{cast.client.display_name}" in body.replace("&#x27;", "'")
    assert 'value="Newname"' in body


@pytest.mark.django_db
def test_add_and_remove_a_care_team_member_through_the_page(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    today = cast.agency.today().isoformat()
    added = http.post(
        f"/clients/{cast.client.pk}/care-team/",
        {"add": "1", "staff": cast.colleague.pk, "role": "peer", "start_on": today},
    )
    assert added.status_code == 302
    twice = http.post(
        f"/clients/{cast.client.pk}/care-team/",
        {"add": "1", "staff": cast.colleague.pk, "role": "peer", "start_on": today},
        follow=True,
    )
    assert "already on the care team" in twice.content.decode()
    member = CareTeamMember.objects.get(client=cast.client, staff=cast.colleague)
    http.post(f"/clients/{cast.client.pk}/care-team/{member.pk}/leave/")
    member.refresh_from_db()
    assert member.end_on == cast.agency.today()
    assert TimelineEvent.objects.filter(
        client=cast.client, summary__contains="left the care team"
    ).exists()


@pytest.mark.django_db
def test_inactive_or_foreign_staff_cannot_join_a_care_team(cast: Cast) -> None:
    cast.colleague.is_active = False
    with pytest.raises(services.ClientError, match="active staff of this agency"):
        services.care_team_add(
            client=cast.client,
            staff=cast.colleague,
            role="peer",
            start_on=cast.agency.today(),
            by=cast.case_manager,
        )
    with pytest.raises(services.ClientError, match="active staff of this agency"):
        services.care_team_add(
            client=cast.client,
            staff=cast.outsider_cm,
            role="peer",
            start_on=cast.agency.today(),
            by=cast.case_manager,
        )


@pytest.mark.django_db
def test_merge_keeps_one_reminder_preference_and_every_opt_out(cast: Cast) -> None:
    from casework.automation import services as automation
    from casework.automation.models import AutomationOptOut, ReminderPreference
    from casework.automation.tests.helpers import rule

    duplicate = ClientFactory(agency=cast.agency)
    assign(duplicate, cast.case_manager)
    mobile = Phone.objects.create(
        agency=cast.agency, client=duplicate, number="2065550199", safe_to_text=True
    )
    automation.reminder_preference_save(
        client=cast.client, by=cast.case_manager, channel="email", email="maria@example.org"
    )
    automation.reminder_preference_save(
        client=duplicate, by=cast.case_manager, channel="sms", phone=mobile
    )
    quiet, loud = rule(cast, "no_show", name="Quiet"), rule(cast, "no_show", name="Loud")
    for client in (cast.client, duplicate):  # both: every rule off, and "Quiet" off
        for which in (None, quiet):
            automation.automation_switch_for_client(
                client=client, by=cast.case_manager, rule=which, off=True
            )
    automation.automation_switch_for_client(  # only the duplicate: "Loud" off
        client=duplicate, by=cast.case_manager, rule=loud, off=True
    )
    services.client_merge(survivor=cast.client, duplicate=duplicate, by=cast.admin)
    (preference,) = ReminderPreference.objects.all()
    assert (preference.client, preference.channel) == (cast.client, "email")
    kept = AutomationOptOut.objects.filter(client=cast.client)
    assert sorted(kept.values_list("rule_id", flat=True), key=str) == sorted(
        [None, quiet.pk, loud.pk], key=str
    )
    assert not AutomationOptOut.objects.filter(client=duplicate).exists()
    duplicate.refresh_from_db()
    assert duplicate.status == Client.Status.MERGED


@pytest.mark.django_db
def test_merge_moves_the_duplicates_preference_when_the_survivor_has_none(cast: Cast) -> None:
    from casework.automation import services as automation
    from casework.automation.models import AutomationOptOut, ReminderPreference

    duplicate = ClientFactory(agency=cast.agency)
    assign(duplicate, cast.case_manager)
    mobile = Phone.objects.create(
        agency=cast.agency, client=duplicate, number="2065550199", safe_to_text=True
    )
    automation.reminder_preference_save(
        client=duplicate, by=cast.case_manager, channel="sms", phone=mobile
    )
    automation.automation_switch_for_client(
        client=duplicate, by=cast.case_manager, rule=None, off=True
    )
    services.client_merge(survivor=cast.client, duplicate=duplicate, by=cast.admin)
    preference = ReminderPreference.objects.get()
    assert (preference.client, preference.phone) == (cast.client, mobile)
    assert Phone.objects.get(pk=mobile.pk).client == cast.client  # still the client's own
    assert AutomationOptOut.objects.get().client == cast.client  # automation stays off
