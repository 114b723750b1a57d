"""Referrals as a case manager keeps them: start one, follow it up from My day, record each step
after it is sent; one referral per submission, a stale page refused, outsiders see nothing."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.clients.models import CareTeamMember
from casework.coordination.models import Organization, Referral, ReferralEvent
from casework.coordination.services_referrals import (
    ReferralDetails,
    ReferralError,
    StatusChange,
    referral_create,
    referral_status_change,
    referral_update,
)
from casework.core.models import User
from casework.testing.coordination import OrganizationFactory, PersonFactory
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast
from casework.worklist.models import Task, TaskEvent

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def clinic(cast: Cast) -> Organization:
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


def _referral(cast: Cast, clinic: Organization, **details: object) -> Referral:
    values: dict[str, object] = {"organization": clinic, "reason": "Needs a medication review."}
    values.update(details)
    return referral_create(
        client=cast.client,
        by=cast.case_manager,
        details=ReferralDetails(**values),  # type: ignore[arg-type]
    )


def _sent(referral: Referral) -> Referral:
    """Mark it sent without a packet (the packet path has its own tests)."""
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.SENT)
    referral.refresh_from_db()
    return referral


def test_starting_a_referral_twice_with_one_submission_makes_one(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    url = reverse("referral_new", args=[cast.client.pk])
    form = http.get(url)
    assert form.status_code == 200
    data = {
        "organization": clinic.pk,
        "reason": "Needs a psychiatrist; her prescriber retired.",
        "urgency": "soon",
        "submission_key": "ref-1",
    }
    first = http.post(url, data)
    second = http.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    referral = Referral.objects.get(client=cast.client)
    assert first["Location"] == reverse("referral_packet", args=[cast.client.pk, referral.pk])
    assert referral.status == Referral.Status.DRAFT
    assert referral.urgency == "soon"
    assert list(referral.events.values_list("status", flat=True)) == ["draft"]


def test_a_bad_referral_form_keeps_what_was_typed(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    other_place = OrganizationFactory(agency=cast.agency)
    elsewhere = PersonFactory(agency=cast.agency, organization=other_place, name="Dr. Elsewhere")
    response = http_as(cast.case_manager).post(
        reverse("referral_new", args=[cast.client.pk]),
        {
            "organization": clinic.pk,
            "person": elsewhere.pk,
            "reason": "Typed with care",
            "urgency": "routine",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "does not work at Riverside Psychiatry" in body
    assert "Typed with care" in body
    assert not Referral.objects.exists()


def test_a_follow_up_date_puts_a_task_on_the_primary_case_managers_day(
    cast: Cast, clinic: Organization
) -> None:
    today = cast.agency.today()
    referral = referral_create(
        client=cast.client,
        by=cast.supervisor,
        details=ReferralDetails(
            organization=clinic, reason="Medication review", follow_up_on=today + 7 * DAY
        ),
    )
    task = referral.follow_up_task
    assert task is not None
    assert task.kind == Task.Kind.REFERRAL_FOLLOW_UP
    assert task.assignee == cast.case_manager  # the primary case manager, not the supervisor
    assert task.due_on == today + 7 * DAY
    assert task.client == cast.client


def test_without_a_primary_case_manager_the_task_goes_to_whoever_started_the_referral(
    cast: Cast, clinic: Organization
) -> None:
    client = ClientFactory(agency=cast.agency, created_by=cast.colleague)
    assign(client, cast.colleague, role=CareTeamMember.Role.CASE_MANAGER)
    referral = referral_create(
        client=client,
        by=cast.colleague,
        details=ReferralDetails(
            organization=clinic, reason="Food", follow_up_on=cast.agency.today()
        ),
    )
    assert referral.follow_up_task is not None
    assert referral.follow_up_task.assignee == cast.colleague


def test_changing_the_follow_up_date_moves_the_task_and_closing_the_referral_completes_it(
    cast: Cast, clinic: Organization
) -> None:
    today = cast.agency.today()
    referral = _referral(cast, clinic, follow_up_on=today + 3 * DAY)
    task = referral.follow_up_task
    assert task is not None

    referral = referral_update(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        details=ReferralDetails(
            organization=clinic, reason=referral.reason, follow_up_on=today + 10 * DAY
        ),
    )
    task.refresh_from_db()
    assert referral.follow_up_task_id == task.pk
    assert task.due_on == today + 10 * DAY
    assert task.status == Task.Status.OPEN
    assert Task.objects.filter(kind=Task.Kind.REFERRAL_FOLLOW_UP).count() == 1

    referral = _sent(referral)
    referral = referral_status_change(
        referral=referral,
        by=cast.colleague,
        expected_version=referral.version,
        change=StatusChange(status="completed", outcome="Seen; new prescriber."),
    )
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert TaskEvent.objects.filter(task=task, action=TaskEvent.Action.DONE).exists()
    assert referral.outcome == "Seen; new prescriber."


def test_removing_the_follow_up_date_completes_the_task(cast: Cast, clinic: Organization) -> None:
    referral = _referral(cast, clinic, follow_up_on=cast.agency.today() + DAY)
    referral = referral_update(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        details=ReferralDetails(organization=clinic, reason=referral.reason),
    )
    assert referral.follow_up_task is not None
    referral.follow_up_task.refresh_from_db()
    assert referral.follow_up_task.status == Task.Status.DONE


def test_the_steps_after_sending_are_kept_as_events_and_a_decline_needs_a_reason(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    referral = _sent(_referral(cast, clinic))
    http = http_as(cast.case_manager)
    url = reverse("referral_status", args=[cast.client.pk, referral.pk])
    assert (
        http.post(url, {"status": "acknowledged", "version": referral.version}).status_code == 302
    )
    referral.refresh_from_db()
    day = cast.agency.today() + 5 * DAY
    response = http.post(
        url,
        {
            "status": "scheduled",
            "scheduled_date": day.isoformat(),
            "scheduled_time": "14:30",
            "version": referral.version,
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    local = timezone.localtime(referral.scheduled_for, cast.agency.tzinfo)
    assert (local.date(), local.hour, local.minute) == (day, 14, 30)

    refused = http.post(url, {"status": "declined", "version": referral.version})
    assert refused.status_code == 200
    assert "Say why they declined." in refused.content.decode()
    assert (
        http.post(
            url,
            {"status": "declined", "detail": "Not taking Medicaid", "version": referral.version},
        ).status_code
        == 302
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED
    assert list(
        ReferralEvent.objects.filter(referral=referral).values_list("status", flat=True)
    ) == [
        "draft",
        "acknowledged",
        "scheduled",
        "declined",
    ]
    page = http.get(reverse("referral_detail", args=[cast.client.pk, referral.pk]))
    assert "Not taking Medicaid" in page.content.decode()
    assert page.context["status_form"] is None  # closed: nothing more to record


def test_a_closed_referral_goes_nowhere_and_a_draft_cannot_be_scheduled(
    cast: Cast, clinic: Organization
) -> None:
    draft = _referral(cast, clinic)
    with pytest.raises(ReferralError, match="cannot become"):
        referral_status_change(
            referral=draft,
            by=cast.case_manager,
            expected_version=draft.version,
            change=StatusChange(status="acknowledged"),
        )
    cancelled = referral_status_change(
        referral=draft,
        by=cast.case_manager,
        expected_version=draft.version,
        change=StatusChange(status="cancelled"),
    )
    with pytest.raises(ReferralError, match="closed"):
        referral_status_change(
            referral=cancelled,
            by=cast.case_manager,
            expected_version=cancelled.version,
            change=StatusChange(status="sent"),
        )


def test_an_edit_from_a_stale_page_is_refused_with_a_message_and_keeps_what_was_typed(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    referral = _referral(cast, clinic)
    http = http_as(cast.case_manager)
    url = reverse("referral_edit", args=[cast.client.pk, referral.pk])
    opened_version = http.get(url).context["form"].initial["version"]
    # A colleague saves first.
    referral_update(
        referral=referral,
        by=cast.colleague,
        expected_version=referral.version,
        details=ReferralDetails(organization=clinic, reason="Colleague's reason"),
    )
    response = http.post(
        url,
        {
            "organization": clinic.pk,
            "reason": "My reason, typed on the old page",
            "urgency": "urgent",
            "version": opened_version,
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone changed this referral after you opened it" in body
    assert "My reason, typed on the old page" in body
    referral.refresh_from_db()
    assert referral.reason == "Colleague's reason"
    # Saving again, now against the current version, goes through.
    again = http.post(
        url,
        {
            "organization": clinic.pk,
            "reason": "My reason, typed on the old page",
            "urgency": "urgent",
            "version": response.context["form"].data["version"],
        },
    )
    assert again.status_code == 302


def test_a_sent_referral_cannot_be_readdressed(cast: Cast, clinic: Organization) -> None:
    referral = _sent(_referral(cast, clinic))
    with pytest.raises(ReferralError, match="start a new referral"):
        referral_update(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            details=ReferralDetails(
                organization=OrganizationFactory(agency=cast.agency), reason=referral.reason
            ),
        )


def test_the_caseload_list_shows_open_referrals_with_follow_ups_due(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    today = cast.agency.today()
    due = _referral(cast, clinic, follow_up_on=today)
    later = _referral(cast, clinic, follow_up_on=today + 9 * DAY)
    closed = _referral(cast, clinic)
    referral_status_change(
        referral=closed,
        by=cast.case_manager,
        expected_version=closed.version,
        change=StatusChange(status="cancelled"),
    )
    http = http_as(cast.case_manager)
    mine = http.get(reverse("referral_caseload"))
    assert [r.pk for r in mine.context["page"]] == [due.pk, later.pk]
    due_only = http.get(reverse("referral_caseload"), {"show": "due"})
    assert [r.pk for r in due_only.context["page"]] == [due.pk]
    assert "today" in due_only.content.decode()
    # Outsiders and another team see none of them.
    for outsider in (cast.other_team_cm, cast.outsider_cm):
        page = http_as(outsider).get(reverse("referral_caseload"), {"show": "all"})
        assert list(page.context["page"]) == []


def _queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_caseload_list_runs_the_same_number_of_queries_for_3_or_30_referrals(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    http = http_as(cast.supervisor)
    http.get(reverse("home"))
    url = reverse("referral_caseload") + "?show=all"

    def add(count: int) -> None:
        for n in range(count):
            client = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
            assign(client, cast.case_manager)
            referral_create(
                client=client,
                by=cast.case_manager,
                details=ReferralDetails(
                    organization=OrganizationFactory(agency=cast.agency),
                    person=None,
                    reason="Housing",
                    follow_up_on=cast.agency.today() + n * DAY,
                ),
            )

    add(3)
    http.get(url)
    few = _queries(http, url)
    add(27)
    assert _queries(http, url) == few
    assert len(http.get(url).context["page"]) == 30


def test_the_clients_referral_list_runs_the_same_number_of_queries_for_3_or_30(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    http.get(reverse("home"))
    url = reverse("referral_list", args=[cast.client.pk])
    for _ in range(3):
        _referral(cast, clinic, person=PersonFactory(agency=cast.agency, organization=clinic))
    http.get(url)
    few = _queries(http, url)
    for _ in range(27):
        _referral(cast, OrganizationFactory(agency=cast.agency))
    assert _queries(http, url) == few


def test_auditors_and_billing_cannot_record_referrals(
    cast: Cast, clinic: Organization, http_as: HttpAs
) -> None:
    referral = _referral(cast, clinic)
    http = http_as(cast.auditor)
    assert http.get(reverse("referral_list", args=[cast.client.pk])).status_code == 403
    http = http_as(cast.billing)
    assert http.get(reverse("referral_new", args=[cast.client.pk])).status_code == 403
    assert (
        http.post(reverse("referral_status", args=[cast.client.pk, referral.pk])).status_code == 403
    )
