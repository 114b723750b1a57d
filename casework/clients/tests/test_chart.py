"""The chart: who may open it, what it shows, that reads are audited, and a fixed query count."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.clients.models import (
    Diagnosis,
    EmergencyContact,
    Medication,
    Phone,
    SafetyFlag,
)
from casework.core.models import AuditEvent
from casework.testing.factories import ClientFactory, PayerFactory, assign
from casework.testing.personas import Cast


@pytest.mark.django_db
def test_chart_shows_header_facts_and_flags(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    SafetyFlag.objects.create(
        agency=cast.agency,
        client=cast.client,
        kind="dog",
        detail="Large dog",
        created_by=cast.admin,
    )
    Diagnosis.objects.create(
        agency=cast.agency,
        client=cast.client,
        code="F25.0",
        description="Schizoaffective disorder, bipolar type",
        rank="primary",
    )
    body = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/").content.decode()
    assert "Dog on premises: Large dog" in body
    assert "F25.0" in body and cast.case_manager.full_name in body
    assert cast.client.record_number in body


@pytest.mark.django_db
def test_every_chart_read_is_audited(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.colleague).get(f"/clients/{cast.client.pk}/")
    event = AuditEvent.objects.filter(client_id=cast.client.pk, action="view").latest("id")
    assert event.actor_id == cast.colleague.pk


@pytest.mark.django_db
def test_who_may_open_the_chart(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    url = f"/clients/{cast.client.pk}/"
    for user in (cast.case_manager, cast.colleague, cast.supervisor, cast.admin, cast.billing):
        assert http_as(user).get(url).status_code == 200, user.email
    assert http_as(cast.auditor).get(url).status_code == 403
    assert http_as(cast.outsider_cm).get(url).status_code == 404
    assert http_as(cast.outsider_admin).get(url).status_code == 404
    other_team = http_as(cast.other_team_cm).get(url)
    assert other_team.status_code == 403 and b"not on your caseload" in other_team.content
    assert cast.client.legal_last_name.encode() not in other_team.content


@pytest.mark.django_db
def test_break_the_glass_opens_the_chart_for_a_while_and_tells_the_supervisor(
    cast: Cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    from casework.core.models import TeamMembership
    from casework.testing.factories import add_to_team

    add_to_team(cast.supervisor, cast.other_team, TeamMembership.Kind.SUPERVISOR)
    http = http_as(cast.other_team_cm)
    refused = http.post(f"/clients/{cast.client.pk}/break-glass/", {"reason": "short"})
    assert refused.status_code == 400
    granted = http.post(
        f"/clients/{cast.client.pk}/break-glass/",
        {"reason": "Client in crisis at the ER, on-call tonight"},
    )
    assert granted.status_code == 302
    assert http.get(f"/clients/{cast.client.pk}/").status_code == 200
    assert AuditEvent.objects.filter(
        client_id=cast.client.pk, action="break_glass", actor_id=cast.other_team_cm.pk
    ).exists()
    home = http_as(cast.supervisor).get("/").content.decode()
    assert "Client in crisis at the ER" in home


@pytest.mark.django_db
def test_break_the_glass_expires(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    from casework.clients.models import BreakGlassAccess

    http = http_as(cast.other_team_cm)
    http.post(
        f"/clients/{cast.client.pk}/break-glass/",
        {"reason": "Client in crisis at the ER, on-call tonight"},
    )
    BreakGlassAccess.objects.update(expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert http.get(f"/clients/{cast.client.pk}/").status_code == 403


@pytest.mark.django_db
def test_outsiders_cannot_break_the_glass_into_another_agency(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.outsider_cm).post(
        f"/clients/{cast.client.pk}/break-glass/", {"reason": "I would like to see this chart"}
    )
    assert response.status_code == 404


def _fill_chart(cast: Cast, rows: int) -> None:
    payer = PayerFactory(agency=cast.agency)
    client = cast.client
    for i in range(rows):
        Phone.objects.create(agency=cast.agency, client=client, number=f"206555{i:04d}")
        EmergencyContact.objects.create(
            agency=cast.agency, client=client, name=f"Contact {i}", phone="2065550100"
        )
        Diagnosis.objects.create(
            agency=cast.agency, client=client, code="F20.0", description="Paranoid schizophrenia"
        )
        Medication.objects.create(agency=cast.agency, client=client, name=f"Med {i}")
        SafetyFlag.objects.create(
            agency=cast.agency,
            client=client,
            kind="other",
            detail=f"flag {i}",
            created_by=cast.admin,
        )
        client.coverages.create(
            agency=cast.agency, payer=payer, member_id=f"M{i}", start_on=datetime.date(2020, 1, 1)
        )
        client.episodes.create(
            agency=cast.agency,
            program=cast.team.program or _program(cast),
            admitted_on=datetime.date(2021, 1, 1),
        )
        assign(client, cast.colleague, role="case_manager")
        client.timeline_events.create(
            agency=cast.agency,
            kind="note",
            summary=f"event {i}",
            occurred_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
            actor=cast.admin,
        )


def _program(cast: Cast):  # type: ignore[no-untyped-def]
    from casework.testing.factories import ProgramFactory

    return ProgramFactory(agency=cast.agency)


def _count_chart_queries(cast: Cast, http_as, rows: int) -> int:  # type: ignore[no-untyped-def]
    _fill_chart(cast, rows)
    http = http_as(cast.case_manager)
    http.get(f"/clients/{cast.client.pk}/")  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as queries:
        assert http.get(f"/clients/{cast.client.pk}/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_chart_query_count_does_not_grow_with_the_chart(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    small = _count_chart_queries(cast, http_as, rows=5)
    big = _count_chart_queries(cast, http_as, rows=45)  # 50 of each kind in all
    assert small == big, (small, big)


@pytest.mark.django_db
def test_client_list_query_count_does_not_grow_with_the_caseload(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    def count() -> int:
        http = http_as(cast.case_manager)
        http.get("/clients/")
        with CaptureQueriesContext(connection) as queries:
            assert http.get("/clients/").status_code == 200
        return len(queries)

    for _ in range(4):
        c = ClientFactory(agency=cast.agency)
        assign(c, cast.case_manager)
        SafetyFlag.objects.create(agency=cast.agency, client=c, kind="dog", created_by=cast.admin)
    small = count()
    for _ in range(45):
        c = ClientFactory(agency=cast.agency)
        assign(c, cast.case_manager)
        SafetyFlag.objects.create(agency=cast.agency, client=c, kind="dog", created_by=cast.admin)
    assert count() == small


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "section"),
    [("", "chart"), ("edit/", "edit"), ("care-team/", "care team"), ("add/phone/", "record form")],
)
def test_every_chart_page_read_is_audited(cast: Cast, http_as, path: str, section: str) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/{path}")
    event = AuditEvent.objects.filter(client_id=cast.client.pk, action="view").latest("id")
    assert event.actor_id == cast.case_manager.pk and f'"section":"{section}"' in event.detail


@pytest.mark.django_db
def test_api_list_audits_each_client_returned_and_keeps_the_chain(cast: Cast, client) -> None:  # type: ignore[no-untyped-def]
    from casework.api.authentication import token_generate
    from casework.core.audit import audit_chain_breaks
    from casework.core.models import ApiToken

    raw, prefix, digest = token_generate()
    ApiToken.objects.create(
        agency=cast.agency,
        user=cast.case_manager,
        name="t",
        prefix=prefix,
        digest=digest,
        expires_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
    )
    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        client_id=cast.client.pk, action="view", detail__contains="api list"
    ).exists()
    assert list(audit_chain_breaks()) == []


@pytest.mark.django_db
def test_the_supervisor_marks_an_emergency_opening_reviewed_and_it_leaves_the_list(
    cast: Cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    from casework.clients.models import BreakGlassAccess

    http_as(cast.colleague).get("/")
    from casework.clients import services

    grant = services.break_glass_open(
        client=cast.other_client, by=cast.colleague, reason="Crisis call at night, on call"
    )
    home = http_as(cast.supervisor).get("/").content.decode()
    assert "Crisis call at night" in home
    assert (
        http_as(cast.colleague).post(f"/clients/break-glass/{grant.pk}/reviewed/").status_code
        == 302
    )
    assert BreakGlassAccess.objects.get(pk=grant.pk).reviewed_at is None  # not their own
    http_as(cast.supervisor).post(f"/clients/break-glass/{grant.pk}/reviewed/")
    grant.refresh_from_db()
    assert grant.reviewed_by == cast.supervisor
    assert "Crisis call at night" not in http_as(cast.supervisor).get("/").content.decode()
