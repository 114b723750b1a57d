"""Who reaches the billing set-up screens: admins and billing staff of the agency; everyone else
is refused (403), signed-out visitors are sent to sign in, another agency's admin gets 404 for
this agency's rows and sees only their own."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from casework.billing.models import Authorization, Payer, ServiceCode
from casework.core.models import AuditEvent, User
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


def _rows(cast: Cast) -> dict[str, int]:
    payer = PayerFactory(agency=cast.agency, name="Coordinated Care")
    code = ServiceCode.objects.create(
        agency=cast.agency, code="T1017", description="Targeted case management", unit_type="15min"
    )
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=payer,
        number="AUTH-1",
        units=40,
        start_on=datetime.date(2025, 1, 1),
        end_on=datetime.date(2099, 12, 31),
    )
    authorization.service_codes.set([code])
    return {"payer": payer.pk, "code": code.pk, "authorization": authorization.pk}


def _urls(cast: Cast) -> dict[str, tuple[str, str]]:
    """Every set-up route with this agency's ids: name -> (method, url)."""
    ids = _rows(cast)
    payer, code, authorization = ids["payer"], ids["code"], ids["authorization"]
    return {
        "billing_setup": ("get", reverse("billing_setup")),
        "billing_payer_list": ("get", reverse("billing_payer_list")),
        "billing_payer_new": ("get", reverse("billing_payer_new")),
        "billing_payer_edit": ("get", reverse("billing_payer_edit", args=[payer])),
        "billing_payer_code_rules": ("post", reverse("billing_payer_code_rules", args=[payer])),
        "billing_code_list": ("get", reverse("billing_code_list")),
        "billing_code_new": ("get", reverse("billing_code_new")),
        "billing_catalogue_seed": ("post", reverse("billing_catalogue_seed")),
        "billing_code_edit": ("get", reverse("billing_code_edit", args=[code])),
        "billing_code_rates": ("get", reverse("billing_code_rates", args=[code])),
        "billing_authorization_list": ("get", reverse("billing_authorization_list")),
        "billing_authorization_new": ("get", reverse("billing_authorization_new")),
        "billing_authorization_edit": (
            "get",
            reverse("billing_authorization_edit", args=[authorization]),
        ),
        "billing_claim_settings": ("get", reverse("billing_claim_settings")),
    }


ROUTES = [
    "billing_setup",
    "billing_payer_list",
    "billing_payer_new",
    "billing_payer_edit",
    "billing_payer_code_rules",
    "billing_code_list",
    "billing_code_new",
    "billing_catalogue_seed",
    "billing_code_edit",
    "billing_code_rates",
    "billing_authorization_list",
    "billing_authorization_new",
    "billing_authorization_edit",
    "billing_claim_settings",
]
ROUTES_WITH_IDS = [
    "billing_payer_edit",
    "billing_payer_code_rules",
    "billing_code_edit",
    "billing_code_rates",
    "billing_authorization_edit",
]
REDIRECTS = {"billing_setup", "billing_payer_code_rules", "billing_catalogue_seed"}


def test_the_route_lists_name_every_set_up_route() -> None:
    from casework.billing import urls_setup

    assert sorted(ROUTES) == sorted(p.name for p in urls_setup.urlpatterns)


@pytest.mark.parametrize("persona", ["admin", "billing"])
@pytest.mark.parametrize("name", ROUTES)
def test_admins_and_billing_staff_reach_every_set_up_route(
    cast: Cast, http_as: HttpAs, persona: str, name: str
) -> None:
    method, url = _urls(cast)[name]
    http = http_as(getattr(cast, persona))
    response = http.post(url) if method == "post" else http.get(url)
    assert response.status_code == (302 if name in REDIRECTS else 200)


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "auditor", "outsider_cm"])
@pytest.mark.parametrize("name", ROUTES)
def test_staff_without_billing_set_up_rights_are_refused(
    cast: Cast, http_as: HttpAs, persona: str, name: str
) -> None:
    method, url = _urls(cast)[name]
    http = http_as(getattr(cast, persona))
    assert http.get(url).status_code == (405 if method == "post" else 403)
    assert http.post(url).status_code == 403


@pytest.mark.parametrize("name", ROUTES_WITH_IDS)
def test_an_admin_of_another_agency_gets_404_for_this_agencys_rows(
    cast: Cast, http_as: HttpAs, name: str
) -> None:
    _, url = _urls(cast)[name]
    http = http_as(cast.outsider_admin)
    assert http.get(url).status_code in (404, 405)
    assert http.post(url, {"name": "Taken over", "number": "X"}).status_code == 404


def test_an_admin_of_another_agency_cannot_change_this_agencys_rows(
    cast: Cast, http_as: HttpAs
) -> None:
    ids = _rows(cast)
    http = http_as(cast.outsider_admin)
    http.post(
        reverse("billing_payer_edit", args=[ids["payer"]]),
        {"name": "Renamed", "kind": "grant", "filing_indicator": "MC", "unit_rule": "full_units"},
    )
    assert (
        not AuditEvent.objects.filter(actor_id=cast.outsider_admin.pk)
        .exclude(action__in=["login", "view"])
        .exists()
    )


@pytest.mark.parametrize(
    "name", ["billing_payer_list", "billing_code_list", "billing_authorization_list"]
)
def test_another_agencys_admin_sees_only_their_own_rows(
    cast: Cast, http_as: HttpAs, name: str
) -> None:
    _rows(cast)
    page = http_as(cast.outsider_admin).get(reverse(name) + "?show=all").content.decode()
    for secret in ("Coordinated Care", "T1017", "AUTH-1", cast.client.legal_last_name):
        assert secret not in page


@pytest.mark.parametrize("name", ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast, client: HttpClient, name: str) -> None:
    method, url = _urls(cast)[name]
    response = client.post(url) if method == "post" else client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", ["billing_payer_code_rules", "billing_catalogue_seed"])
def test_actions_refuse_get(cast: Cast, http_as: HttpAs, name: str) -> None:
    _, url = _urls(cast)[name]
    assert http_as(cast.admin).get(url).status_code == 405


def test_the_set_up_pages_show_the_tab_bar_with_the_current_tab(
    cast: Cast, http_as: HttpAs
) -> None:
    page = http_as(cast.billing).get(reverse("billing_code_list")).content.decode()
    assert 'aria-label="Billing set-up"' in page
    assert f'href="{reverse("billing_code_list")}" aria-current="page"' in page
    assert f'href="{reverse("billing_payer_list")}" aria-current' not in page


# ---------------------------------------------------------------------------- services, directly


def test_the_services_refuse_someone_without_billing_set_up_rights(cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied

    from casework.billing.services import catalogue as services

    with pytest.raises(PermissionDenied):
        services.catalogue_seed(agency=cast.agency, by=cast.case_manager)
    with pytest.raises(PermissionDenied):
        services.payer_create(
            agency=cast.agency, by=cast.supervisor, details=services.PayerDetails("X", "grant")
        )
    assert not ServiceCode.objects.exists()


def test_the_services_refuse_another_agencys_rows(cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied

    from casework.billing.services import catalogue as services

    ids = _rows(cast)
    code = ServiceCode.objects.get(pk=ids["code"])
    their_payer = PayerFactory(agency=cast.outsider_agency)
    with pytest.raises(PermissionDenied):
        services.fee_rate_add(
            service_code=code,
            by=cast.billing,
            payer=their_payer,
            effective_from=datetime.date(2025, 1, 1),
            rate=Decimal("10.00"),
        )
    with pytest.raises(PermissionDenied):
        services.catalogue_seed(agency=cast.agency, by=cast.outsider_admin)
    with pytest.raises(PermissionDenied):
        services.authorization_create(
            agency=cast.agency,
            by=cast.billing,
            details=services.AuthorizationDetails(
                client=cast.outsider_client,
                payer=Payer.objects.get(pk=ids["payer"]),
                number="X-1",
                service_codes=(code,),
                units=4,
                start_on=datetime.date(2025, 1, 1),
                end_on=datetime.date(2025, 2, 1),
            ),
        )
    assert Authorization.objects.count() == 1
