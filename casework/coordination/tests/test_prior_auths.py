"""Prior-authorization requests: from the draft to the payer's decision. An approval becomes one
billing authorization, numbered with the payer's reference."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from casework.billing.models import Authorization, Payer, ServiceCode
from casework.coordination.models import PriorAuthRequest
from casework.coordination.services_prior_auth import (
    PriorAuthDetails,
    PriorAuthError,
    PriorAuthStep,
    prior_auth_create,
    prior_auth_status_change,
)
from casework.core.models import User
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def payer(cast: Cast) -> Payer:
    return PayerFactory(agency=cast.agency, name="Molina Healthcare", requires_authorization=True)


@pytest.fixture
def code(cast: Cast) -> ServiceCode:
    return ServiceCode.objects.create(
        agency=cast.agency,
        code="H0036",
        description="Community psychiatric support",
        unit_type="15min",
    )


def _request(
    cast: Cast, payer: Payer, code: ServiceCode, by: User | None = None
) -> PriorAuthRequest:
    today = cast.agency.today()
    return prior_auth_create(
        client=cast.client,
        by=by or cast.case_manager,
        details=PriorAuthDetails(
            payer=payer,
            service_code=code,
            units_requested=96,
            start_on=today,
            end_on=today + 90 * DAY,
        ),
    )


def _step(request: PriorAuthRequest, by: User, **step: object) -> PriorAuthRequest:
    values: dict[str, object] = {"on": request.client.agency.today()}
    values.update(step)
    return prior_auth_status_change(
        request=request,
        by=by,
        expected_version=request.version,
        step=PriorAuthStep(**values),  # type: ignore[arg-type]
    )


def test_a_request_is_started_once_however_often_the_form_is_sent(
    cast: Cast, payer: Payer, code: ServiceCode, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    today = cast.agency.today()
    url = reverse("prior_auth_new", args=[cast.client.pk])
    assert http.get(url).status_code == 200
    data = {
        "payer": payer.pk,
        "service_code": code.pk,
        "units_requested": "96",
        "start_on": today.isoformat(),
        "end_on": (today + 90 * DAY).isoformat(),
        "submission_key": "pa-1",
    }
    first = http.post(url, data)
    second = http.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert PriorAuthRequest.objects.get().status == PriorAuthRequest.Status.DRAFT


def test_dates_the_wrong_way_round_are_refused_and_what_was_typed_kept(
    cast: Cast, payer: Payer, code: ServiceCode, http_as: HttpAs
) -> None:
    today = cast.agency.today()
    response = http_as(cast.case_manager).post(
        reverse("prior_auth_new", args=[cast.client.pk]),
        {
            "payer": payer.pk,
            "service_code": code.pk,
            "units_requested": "40",
            "start_on": today.isoformat(),
            "end_on": (today - DAY).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "The end date cannot be before the start date." in response.content.decode()
    assert 'value="40"' in response.content.decode()
    assert not PriorAuthRequest.objects.exists()


def test_an_approval_creates_one_billing_authorization_with_the_payers_reference(
    cast: Cast, payer: Payer, code: ServiceCode, http_as: HttpAs
) -> None:
    request = _request(cast, payer, code)
    request = _step(request, cast.case_manager, status="submitted")
    assert request.submitted_on == cast.agency.today()
    http = http_as(cast.case_manager)
    url = reverse("prior_auth_status", args=[cast.client.pk, request.pk])
    refused = http.post(
        url,
        {"status": "approved", "on": cast.agency.today().isoformat(), "version": request.version},
    )
    assert refused.status_code == 200
    assert "authorization number" in refused.content.decode()
    assert not Authorization.objects.exists()

    data = {
        "status": "approved",
        "on": cast.agency.today().isoformat(),
        "reference": "MOL-2026-0042",
        "note": "Approved as asked.",
        "version": request.version,
    }
    assert http.post(url, data).status_code == 302
    assert http.post(url, data).status_code == 200  # a second submit: stale, and refused
    authorization = Authorization.objects.get()
    request.refresh_from_db()
    assert request.status == PriorAuthRequest.Status.APPROVED
    assert request.authorization == authorization
    assert authorization.number == "MOL-2026-0042"
    assert authorization.units == 96
    assert (authorization.client, authorization.payer) == (cast.client, payer)
    assert (authorization.start_on, authorization.end_on) == (request.start_on, request.end_on)
    assert list(authorization.service_codes.all()) == [code]


def test_a_partial_approval_authorizes_the_units_approved_and_an_appeal_updates_it(
    cast: Cast, payer: Payer, code: ServiceCode
) -> None:
    request = _step(_request(cast, payer, code), cast.case_manager, status="submitted")
    with pytest.raises(PriorAuthError, match="units the payer approved"):
        _step(request, cast.billing, status="partial", reference="P-7")
    request = _step(request, cast.billing, status="partial", reference="P-7", units_approved=48)
    assert Authorization.objects.get().units == 48
    request = _step(request, cast.billing, status="appealed")
    request = _step(request, cast.billing, status="approved")
    assert Authorization.objects.count() == 1
    assert Authorization.objects.get().units == 96
    assert request.reference == "P-7"


def test_a_reference_another_authorization_of_the_payer_has_is_refused(
    cast: Cast, payer: Payer, code: ServiceCode
) -> None:
    existing = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=payer,
        number="TAKEN-1",
        units=10,
        start_on=cast.agency.today(),
        end_on=cast.agency.today(),
    )
    request = _step(_request(cast, payer, code), cast.case_manager, status="submitted")
    with pytest.raises(PriorAuthError, match="already has an authorization"):
        _step(request, cast.case_manager, status="approved", reference="taken-1")
    assert list(Authorization.objects.all()) == [existing]


def test_a_denial_creates_no_authorization_and_a_draft_cannot_be_approved(
    cast: Cast, payer: Payer, code: ServiceCode
) -> None:
    request = _request(cast, payer, code)
    with pytest.raises(PriorAuthError, match="cannot become"):
        _step(request, cast.case_manager, status="approved", reference="X")
    request = _step(request, cast.case_manager, status="submitted")
    request = _step(request, cast.case_manager, status="denied", note="Not medically necessary")
    assert request.decision_note == "Not medically necessary"
    assert not Authorization.objects.exists()


def test_case_managers_supervisors_admins_and_billing_record_them_auditors_do_not(
    cast: Cast, payer: Payer, code: ServiceCode, http_as: HttpAs
) -> None:
    url = reverse("prior_auth_list", args=[cast.client.pk])
    for user in (cast.case_manager, cast.supervisor, cast.admin, cast.billing):
        assert http_as(user).get(url).status_code == 200, user.email
    assert http_as(cast.auditor).get(url).status_code == 403
    request = _request(cast, payer, code, by=cast.billing)
    assert request.created_by == cast.billing


def test_the_request_can_change_while_a_draft_but_not_once_submitted(
    cast: Cast, payer: Payer, code: ServiceCode, http_as: HttpAs
) -> None:
    request = _request(cast, payer, code)
    http = http_as(cast.case_manager)
    url = reverse("prior_auth_edit", args=[cast.client.pk, request.pk])
    data = {
        "payer": payer.pk,
        "service_code": code.pk,
        "units_requested": "120",
        "start_on": request.start_on.isoformat(),
        "end_on": request.end_on.isoformat(),
        "version": request.version,
    }
    assert http.post(url, data).status_code == 302
    request.refresh_from_db()
    assert request.units_requested == 120
    request = _step(request, cast.case_manager, status="submitted")
    assert http.get(url).status_code == 302  # back to the request, with a message
