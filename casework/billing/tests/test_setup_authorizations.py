"""Authorizations on the billing set-up screens: recording them from the payer's letter, bad
input, and the balance (units used by charges that are not void, remaining, warnings)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.billing.models import Authorization, Charge, Payer, ServiceCode
from casework.billing.selectors.catalogue import (
    authorization_balance,
    authorizations_with_usage,
)
from casework.clients.models import Client
from casework.core.models import AuditEvent, User
from casework.notes.models import Note
from casework.testing.factories import ClientFactory, PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _code(cast: Cast, code: str = "T1017", **fields: Any) -> ServiceCode:
    defaults: dict[str, Any] = {"description": "Targeted case management", "unit_type": "15min"}
    defaults.update(fields)
    return ServiceCode.objects.create(agency=cast.agency, code=code, **defaults)


def _authorization(
    cast: Cast,
    *,
    client: Client | None = None,
    payer: Payer | None = None,
    codes: list[ServiceCode] | None = None,
    number: str = "AUTH-1",
    units: int = 40,
    start_on: datetime.date | None = None,
    end_on: datetime.date | None = None,
) -> Authorization:
    today = cast.agency.today()
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=client or cast.client,
        payer=payer or PayerFactory(agency=cast.agency),
        number=number,
        units=units,
        start_on=start_on or today - 60 * DAY,
        end_on=end_on or today + 120 * DAY,
    )
    authorization.service_codes.set(
        codes or [ServiceCode.objects.filter(agency=cast.agency).first() or _code(cast)]
    )
    return authorization


def _charge(
    cast: Cast, authorization: Authorization, *, units: int, status: str = Charge.Status.READY
) -> Charge:
    """A charge under the authorization, on a draft note (enough for the balance)."""
    code = authorization.service_codes.first()
    assert code is not None
    note = Note.objects.create(
        agency=cast.agency,
        client=authorization.client,
        author=cast.case_manager,
        service_date=authorization.start_on,
        service_code=code,
    )
    return Charge.objects.create(
        agency=cast.agency,
        note=note,
        client=authorization.client,
        service_code=code,
        rendering_provider=cast.case_manager,
        payer=authorization.payer,
        authorization=authorization,
        service_date=authorization.start_on,
        minutes=units * 15,
        units=units,
        unit_rule="cms_8_minute",
        place_of_service="12",
        status=status,
    )


def _data(
    cast: Cast, payer: Payer, codes: list[ServiceCode], **overrides: object
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client": cast.client.record_number.lower(),
        "payer": payer.pk,
        "number": "  PA-2025-00017  ",
        "service_codes": [code.pk for code in codes],
        "units": "96",
        "start_on": "2025-07-01",
        "end_on": "2025-12-31",
        "note": "Per letter of 06/20/2025",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def payer(cast: Cast) -> Payer:
    return PayerFactory(agency=cast.agency, name="Molina Healthcare", requires_authorization=True)


@pytest.fixture
def codes(cast: Cast) -> list[ServiceCode]:
    return [_code(cast, "T1017"), _code(cast, "H2015", description="Community support")]


# ---------------------------------------------------------------------------- adding


def test_billing_staff_record_an_authorization(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes)
    )
    assert response.status_code == 302
    authorization = Authorization.objects.get(agency=cast.agency)
    assert (authorization.client, authorization.payer, authorization.number) == (
        cast.client,
        payer,
        "PA-2025-00017",
    )
    assert set(authorization.service_codes.all()) == set(codes)
    assert (authorization.units, authorization.start_on, authorization.end_on) == (
        96,
        datetime.date(2025, 7, 1),
        datetime.date(2025, 12, 31),
    )
    event = AuditEvent.objects.get(object_type="billing.authorization", action="create")
    assert event.actor_id == cast.billing.pk and event.client_id == cast.client.pk
    assert json.loads(event.detail)["codes"] == ["H2015", "T1017"]


def test_the_form_can_start_with_a_client_chosen_on_their_chart(
    cast: Cast, http_as: HttpAs
) -> None:
    url = reverse("billing_authorization_new") + f"?client={cast.client.pk}"
    page = http_as(cast.billing).get(url).content.decode()
    assert f'value="{cast.client.record_number}"' in page


def test_a_client_of_another_agency_cannot_be_prefilled(cast: Cast, http_as: HttpAs) -> None:
    url = reverse("billing_authorization_new") + f"?client={cast.outsider_client.pk}"
    page = http_as(cast.billing).get(url).content.decode()
    assert cast.outsider_client.record_number not in page


@pytest.mark.parametrize("typed", ["NOPE-1", "   ", "T-000001' OR 1=1 --"])
def test_an_unknown_record_number_is_refused(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode], typed: str
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes, client=typed)
    )
    assert "client" in response.context["form"].errors
    assert not Authorization.objects.exists()


def test_a_client_of_another_agency_cannot_be_chosen(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    theirs = cast.outsider_client.record_number
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes, client=theirs)
    )
    assert response.context["form"].errors["client"] == [
        f"No client you may see has the record number “{theirs}”."
    ]
    assert not Authorization.objects.exists()


def test_a_payer_or_code_of_another_agency_cannot_be_chosen(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    their_payer = PayerFactory(agency=cast.outsider_agency)
    their_code = ServiceCode.objects.create(
        agency=cast.outsider_agency, code="T1016", description="CM", unit_type="15min"
    )
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"),
        _data(cast, their_payer, [codes[0], their_code]),
    )
    assert {"payer", "service_codes"} <= set(response.context["form"].errors)
    assert not Authorization.objects.exists()


def test_an_end_before_the_start_is_refused_on_the_end_date(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"),
        _data(cast, payer, codes, start_on="2025-07-01", end_on="2025-06-30"),
    )
    assert response.context["form"].errors["end_on"] == [
        "The end date cannot be before the start date."
    ]


def test_a_one_day_authorization_is_fine(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    http_as(cast.billing).post(
        reverse("billing_authorization_new"),
        _data(cast, payer, codes, start_on="2025-07-01", end_on="2025-07-01"),
    )
    assert Authorization.objects.filter(agency=cast.agency).count() == 1


@pytest.mark.parametrize("units", ["0", "-4", "2.5", "many", "100000", ""])
def test_units_must_be_a_whole_number_from_1(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode], units: str
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes, units=units)
    )
    assert response.context["form"].errors["units"] == ["Enter a whole number from 1 to 99,999."]
    assert not Authorization.objects.exists()


def test_an_empty_authorization_form_names_each_missing_field(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.billing).post(reverse("billing_authorization_new"), {})
    errors = response.context["form"].errors
    assert errors["client"] == ["Give the client's record number."]
    assert errors["service_codes"] == ["Choose at least one service code it covers."]
    assert {"payer", "number", "units", "start_on", "end_on"} <= set(errors)


def test_a_number_longer_than_50_characters_is_refused(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes, number="9" * 51)
    )
    assert "number" in response.context["form"].errors


def test_an_impossible_date_is_refused(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"), _data(cast, payer, codes, start_on="2025-02-30")
    )
    assert response.context["form"].errors["start_on"] == ["Enter a date."]


def test_the_same_number_twice_for_one_payer_is_refused(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    _authorization(cast, payer=payer, codes=codes, number="PA-2025-00017")
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"),
        _data(cast, payer, codes, number="pa-2025-00017"),
    )
    assert response.context["form"].errors["number"] == [
        "Molina Healthcare already has an authorization numbered “pa-2025-00017”."
    ]


def test_a_refused_authorization_form_keeps_what_was_typed(
    cast: Cast, http_as: HttpAs, payer: Payer, codes: list[ServiceCode]
) -> None:
    response = http_as(cast.billing).post(
        reverse("billing_authorization_new"),
        _data(cast, payer, codes[1:], number="Nº 17 — ü", units="0", note="Carta de la señora"),
    )
    page = response.content.decode()
    assert f'value="{cast.client.record_number.lower()}"' in page
    assert 'value="Nº 17 — ü"' in page and 'value="0"' in page
    assert "Carta de la señora" in page and 'value="2025-12-31"' in page
    assert f'<option value="{payer.pk}" selected>' in page
    form = response.context["form"]
    assert form["service_codes"].value() == [str(codes[1].pk)]


# ---------------------------------------------------------------------------- editing


def test_billing_staff_extend_an_authorization(cast: Cast, http_as: HttpAs) -> None:
    authorization = _authorization(cast)
    response = http_as(cast.billing).post(
        reverse("billing_authorization_edit", args=[authorization.pk]),
        _data(
            cast,
            authorization.payer,
            list(authorization.service_codes.all()),
            number="AUTH-1",
            units="80",
            start_on=authorization.start_on.isoformat(),
            end_on="2099-01-01",
        ),
    )
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert (authorization.units, authorization.end_on) == (80, datetime.date(2099, 1, 1))
    event = AuditEvent.objects.get(object_type="billing.authorization", action="update")
    assert {"units", "end_on"} <= set(json.loads(event.detail)["fields"])


def test_the_edit_page_starts_with_the_authorization_and_its_client(
    cast: Cast, http_as: HttpAs
) -> None:
    authorization = _authorization(cast, number="AUTH-77")
    page = (
        http_as(cast.billing)
        .get(reverse("billing_authorization_edit", args=[authorization.pk]))
        .content.decode()
    )
    assert f'value="{cast.client.record_number}"' in page and 'value="AUTH-77"' in page


def test_units_cannot_drop_below_what_is_used(cast: Cast, http_as: HttpAs) -> None:
    authorization = _authorization(cast, units=40)
    _charge(cast, authorization, units=12)
    response = http_as(cast.billing).post(
        reverse("billing_authorization_edit", args=[authorization.pk]),
        _data(
            cast,
            authorization.payer,
            list(authorization.service_codes.all()),
            number="AUTH-1",
            units="10",
        ),
    )
    assert response.context["form"].errors["units"] == [
        "12 units are already used; the authorization cannot be for fewer."
    ]
    authorization.refresh_from_db()
    assert authorization.units == 40


def test_the_client_of_an_authorization_that_charges_use_stays(cast: Cast, http_as: HttpAs) -> None:
    authorization = _authorization(cast)
    _charge(cast, authorization, units=2, status=Charge.Status.VOID)
    response = http_as(cast.billing).post(
        reverse("billing_authorization_edit", args=[authorization.pk]),
        _data(
            cast,
            authorization.payer,
            list(authorization.service_codes.all()),
            client=cast.other_client.record_number,
            number="AUTH-1",
        ),
    )
    assert "client" in response.context["form"].errors
    authorization.refresh_from_db()
    assert authorization.client == cast.client


# ---------------------------------------------------------------------------- usage and balance


def test_usage_counts_only_charges_that_are_not_void(cast: Cast) -> None:
    authorization = _authorization(cast, units=40)
    other = _authorization(cast, number="AUTH-2", client=cast.other_client)
    _charge(cast, authorization, units=4, status=Charge.Status.READY)
    _charge(cast, authorization, units=3, status=Charge.Status.BILLED)
    _charge(cast, authorization, units=2, status=Charge.Status.HELD)
    _charge(cast, authorization, units=8, status=Charge.Status.VOID)
    _charge(cast, other, units=5)
    used = dict(
        authorizations_with_usage(Authorization.objects.all()).values_list("number", "used_units")
    )
    assert used == {"AUTH-1": 9, "AUTH-2": 5}


def test_usage_is_zero_without_charges(cast: Cast) -> None:
    _authorization(cast)
    assert authorizations_with_usage(Authorization.objects.all()).get().used_units == 0


def test_usage_is_one_query_however_many_authorizations_and_charges(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        authorization = _authorization(cast, number=f"A-{n}")
        _charge(cast, authorization, units=1)
        _charge(cast, authorization, units=2, status=Charge.Status.VOID)
    with django_assert_num_queries(1):
        rows = list(authorizations_with_usage(Authorization.objects.all()))
    assert [a.used_units for a in rows] == [1] * 5


def _balance(cast: Cast, authorization: Authorization) -> Any:
    annotated = authorizations_with_usage(Authorization.objects.filter(pk=authorization.pk)).get()
    return authorization_balance(annotated, today=cast.agency.today())


def _labels(balance: Any) -> list[str]:
    return [badge.label for badge in balance.badges]


def test_the_balance_shows_used_remaining_and_percent(cast: Cast) -> None:
    authorization = _authorization(cast, units=40)
    _charge(cast, authorization, units=10)
    balance = _balance(cast, authorization)
    assert (balance.used, balance.remaining, balance.percent_used) == (10, 30, 25)
    assert _labels(balance) == ["Active"]


@pytest.mark.parametrize(("used", "warned"), [(31, False), (32, True), (39, True)])
def test_a_warning_shows_from_80_percent_used(cast: Cast, used: int, warned: bool) -> None:
    authorization = _authorization(cast, units=40)
    _charge(cast, authorization, units=used)
    balance = _balance(cast, authorization)
    assert (f"{used * 100 // 40} % used" in _labels(balance)) is warned
    assert any(b.tone == "warn" for b in balance.badges) is warned


def test_an_authorization_used_up_is_exhausted(cast: Cast) -> None:
    authorization = _authorization(cast, units=40)
    _charge(cast, authorization, units=40)
    balance = _balance(cast, authorization)
    assert (balance.remaining, balance.percent_used) == (0, 100)
    assert _labels(balance) == ["Exhausted"]


def test_an_authorization_past_its_end_is_expired(cast: Cast) -> None:
    today = cast.agency.today()
    authorization = _authorization(cast, start_on=today - 90 * DAY, end_on=today - DAY)
    assert _labels(_balance(cast, authorization)) == ["Expired"]


def test_an_authorization_ending_today_is_not_expired_but_ending(cast: Cast) -> None:
    today = cast.agency.today()
    authorization = _authorization(cast, start_on=today - 90 * DAY, end_on=today)
    assert _labels(_balance(cast, authorization)) == [f"Ends {today:%m/%d/%Y}"]


def test_the_list_shows_the_balance_and_badges(cast: Cast, http_as: HttpAs) -> None:
    authorization = _authorization(cast, units=40)
    _charge(cast, authorization, units=36)
    _charge(cast, authorization, units=4, status=Charge.Status.VOID)
    page = http_as(cast.billing).get(reverse("billing_authorization_list")).content.decode()
    assert "36 of 40 (90 %)" in page
    assert '<span class="badge badge--warn">90 % used</span>' in page


# ---------------------------------------------------------------------------- the list and filters


@pytest.fixture
def three_kinds(cast: Cast) -> dict[str, Authorization]:
    today = cast.agency.today()
    return {
        "long": _authorization(cast, number="LONG", end_on=today + 120 * DAY),
        "ending": _authorization(cast, number="ENDING", end_on=today + 30 * DAY),
        "ended": _authorization(cast, number="ENDED", end_on=today - DAY),
        "future": _authorization(cast, number="FUTURE", start_on=today + DAY),
    }


@pytest.mark.parametrize(
    ("show", "numbers"),
    [
        ("active", ["ENDING", "LONG"]),
        ("expiring", ["ENDING"]),
        ("all", ["FUTURE", "LONG", "ENDING", "ENDED"]),
        ("nonsense", ["ENDING", "LONG"]),
        (None, ["ENDING", "LONG"]),
    ],
)
def test_the_list_filters_active_expiring_and_all(
    cast: Cast,
    http_as: HttpAs,
    three_kinds: dict[str, Authorization],
    show: str | None,
    numbers: list[str],
) -> None:
    url = reverse("billing_authorization_list") + (f"?show={show}" if show else "")
    rows = http_as(cast.billing).get(url).context["rows"]
    assert [row.authorization.number for row in rows] == numbers


def _authorizations_with_charges(cast: Cast, count: int) -> None:
    payer = PayerFactory(agency=cast.agency)
    codes = (
        [_code(cast, f"H{n:04d}") for n in range(2)]
        if not ServiceCode.objects.exists()
        else list(ServiceCode.objects.all()[:2])
    )
    for _ in range(count):
        client = ClientFactory(agency=cast.agency, created_by=cast.admin)
        authorization = _authorization(cast, client=client, payer=payer, codes=codes)
        _charge(cast, authorization, units=3)
        _charge(cast, authorization, units=1, status=Charge.Status.VOID)


def _queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_list_runs_the_same_number_of_queries_for_3_or_30_authorizations(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.billing)
    http.get(reverse("home"))  # the first request after sign-in also writes the session
    url = reverse("billing_authorization_list") + "?show=all"
    _authorizations_with_charges(cast, 3)
    few = _queries(http, url)
    _authorizations_with_charges(cast, 27)
    assert _queries(http, url) == few
    assert len(http.get(url).context["rows"]) == 30


def test_the_admin_sees_the_authorizations_of_every_client_of_the_agency(
    cast: Cast, http_as: HttpAs
) -> None:
    _authorization(cast, number="MINE", client=cast.client)
    _authorization(cast, number="OTHER-TEAM", client=cast.other_client)
    rows = http_as(cast.admin).get(reverse("billing_authorization_list")).context["rows"]
    assert sorted(row.authorization.number for row in rows) == ["MINE", "OTHER-TEAM"]
