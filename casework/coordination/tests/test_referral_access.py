"""Outsiders learn nothing: every referral and prior-authorization URL of a client is 404 to a
case manager of another agency and to one on another team, read or write."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from casework.billing.models import ServiceCode
from casework.coordination.models import PriorAuthRequest, Referral
from casework.coordination.services_prior_auth import PriorAuthDetails, prior_auth_create
from casework.coordination.services_referrals import ReferralDetails, referral_create
from casework.core.models import User
from casework.testing.coordination import OrganizationFactory
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(cast: Cast) -> tuple[Referral, PriorAuthRequest]:
    referral = referral_create(
        client=cast.client,
        by=cast.case_manager,
        details=ReferralDetails(
            organization=OrganizationFactory(agency=cast.agency), reason="Housing"
        ),
    )
    today = cast.agency.today()
    request = prior_auth_create(
        client=cast.client,
        by=cast.case_manager,
        details=PriorAuthDetails(
            payer=PayerFactory(agency=cast.agency),
            service_code=ServiceCode.objects.create(
                agency=cast.agency, code="T1017", description="TCM", unit_type="15min"
            ),
            units_requested=8,
            start_on=today,
            end_on=today,
        ),
    )
    return referral, request


def _urls(cast: Cast, referral: Referral, request: PriorAuthRequest) -> list[str]:
    client_id = cast.client.pk
    return [
        reverse("referral_list", args=[client_id]),
        reverse("referral_new", args=[client_id]),
        reverse("referral_detail", args=[client_id, referral.pk]),
        reverse("referral_edit", args=[client_id, referral.pk]),
        reverse("referral_packet", args=[client_id, referral.pk]),
        reverse("referral_packet_pdf", args=[client_id, referral.pk]),
        reverse("referral_status", args=[client_id, referral.pk]),
        reverse("prior_auth_list", args=[client_id]),
        reverse("prior_auth_new", args=[client_id]),
        reverse("prior_auth_detail", args=[client_id, request.pk]),
        reverse("prior_auth_edit", args=[client_id, request.pk]),
        reverse("prior_auth_status", args=[client_id, request.pk]),
    ]


@pytest.mark.parametrize("who", ["outsider_cm", "other_team_cm", "outsider_admin"])
def test_every_referral_and_prior_auth_url_is_404_to_someone_outside_the_clients_care(
    cast: Cast, records: tuple[Referral, PriorAuthRequest], http_as: HttpAs, who: str
) -> None:
    http = http_as(getattr(cast, who))
    for url in _urls(cast, *records):
        assert http.get(url).status_code in (404, 405), url
        assert http.post(url, {"version": "1", "status": "cancelled"}).status_code == 404, url
    referral, request = records
    referral.refresh_from_db()
    request.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT
    assert request.status == PriorAuthRequest.Status.DRAFT


def test_another_clients_referral_is_404_under_this_clients_url(
    cast: Cast, records: tuple[Referral, PriorAuthRequest], http_as: HttpAs
) -> None:
    referral, request = records
    http = http_as(cast.admin)  # sees both clients
    assert (
        http.get(reverse("referral_detail", args=[cast.other_client.pk, referral.pk])).status_code
        == 404
    )
    assert (
        http.get(reverse("prior_auth_detail", args=[cast.other_client.pk, request.pk])).status_code
        == 404
    )


def test_the_client_pages_work_for_the_case_manager(
    cast: Cast, records: tuple[Referral, PriorAuthRequest], http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    for url in _urls(cast, *records):
        if url.endswith(("status/", "packet.pdf")):
            continue
        assert http.get(url).status_code == 200, url
