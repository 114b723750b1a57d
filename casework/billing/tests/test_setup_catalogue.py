"""The service catalogue and its fee schedule: codes and modifiers in the right shape, versioned
rates, `rate_on` on boundary dates, and loading the standard codes."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.billing.models import PLACES_OF_SERVICE, Charge, FeeRate, Payer, ServiceCode
from casework.billing.selectors.catalogue import rate_on
from casework.billing.services import catalogue as services
from casework.core.catalogues import credential_types
from casework.core.models import AuditEvent, User
from casework.notes.models import Note
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

RATE_MESSAGE = "Enter the rate per unit in dollars and cents, from 0.00 to 99,999.99, e.g. 27.50."


def _code(cast: Cast, code: str = "T1017", **fields: Any) -> ServiceCode:
    defaults: dict[str, Any] = {
        "agency": cast.agency,
        "description": "Targeted case management",
        "unit_type": "15min",
    }
    defaults.update(fields)
    return ServiceCode.objects.create(code=code, **defaults)


def _rate(code: ServiceCode, day: str, rate: str, payer: Payer | None = None) -> FeeRate:
    return FeeRate.objects.create(
        agency_id=code.agency_id,
        service_code=code,
        payer=payer,
        effective_from=datetime.date.fromisoformat(day),
        rate=Decimal(rate),
    )


def _code_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "t1017",
        "modifiers": "hf, u1",
        "description": "Targeted case management, SUD program",
        "unit_type": "15min",
        "minimum_minutes": "8",
        "is_billable": "on",
        "allowed_credentials": ["sudp", "aac_certified"],
        "allowed_places": ["12", "99", "02"],
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# ---------------------------------------------------------------------------- adding codes


def test_billing_staff_add_a_code_in_normalised_shape(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.billing).post(reverse("billing_code_new"), _code_data())
    code = ServiceCode.objects.get(agency=cast.agency)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing_code_rates", args=[code.pk])
    assert (code.code, code.modifiers, code.minimum_minutes) == ("T1017", "HF U1", 8)
    assert code.allowed_credentials == ["aac_certified", "sudp"]
    assert code.allowed_places == ["02", "12", "99"]
    event = AuditEvent.objects.get(object_type="billing.servicecode", action="create")
    assert event.actor_id == cast.billing.pk


def test_a_code_with_no_credentials_or_places_ticked_allows_any(
    cast: Cast, http_as: HttpAs
) -> None:
    http_as(cast.admin).post(
        reverse("billing_code_new"),
        _code_data(code="90837", modifiers="", allowed_credentials=None, allowed_places=None),
    )
    code = ServiceCode.objects.get(agency=cast.agency)
    assert (code.code, code.allowed_credentials, code.allowed_places) == ("90837", [], [])


def test_the_code_form_offers_every_credential_type_and_place_of_service(
    cast: Cast, http_as: HttpAs
) -> None:
    form = http_as(cast.admin).get(reverse("billing_code_new")).context["form"]
    assert [value for value, _ in form.fields["allowed_credentials"].choices] == list(
        credential_types()
    )
    assert [value for value, _ in form.fields["allowed_places"].choices] == list(PLACES_OF_SERVICE)


@pytest.mark.parametrize(
    "typed",
    ["T101", "T10167", "1016T", "TT016", "T1O16", "\u0422" + "1016", "T\u0661016", "T1016 HF", "*"],
)
def test_a_code_not_shaped_like_hcpcs_or_cpt_is_refused(
    cast: Cast, http_as: HttpAs, typed: str
) -> None:
    response = http_as(cast.admin).post(reverse("billing_code_new"), _code_data(code=typed))
    assert response.context["form"].errors["code"] == [
        "A procedure code is 5 characters: a letter and 4 digits (T1017) or 5 digits (90837)."
    ]
    assert not ServiceCode.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("H", "Each modifier is 2 letters or digits, e.g. HF; “H” is not."),
        ("HFF", "Each modifier is 2 letters or digits, e.g. HF; “HFF” is not."),
        ("H-", "Each modifier is 2 letters or digits, e.g. HF; “H-” is not."),
        ("ÄB", "Each modifier is 2 letters or digits, e.g. HF; “ÄB” is not."),
        ("HF U1 GT 59 XE", "A claim line carries at most 4 modifiers; you gave 5."),
        ("HF hf", "Give each modifier once; repeated: HF."),
    ],
)
def test_a_bad_modifier_is_refused_with_what_is_wrong(
    cast: Cast, http_as: HttpAs, typed: str, message: str
) -> None:
    response = http_as(cast.admin).post(reverse("billing_code_new"), _code_data(modifiers=typed))
    assert response.context["form"].errors["modifiers"] == [message]
    assert not ServiceCode.objects.exists()


def test_an_empty_code_form_names_each_missing_field(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(reverse("billing_code_new"), {})
    assert {"code", "description", "unit_type", "minimum_minutes"} <= set(
        response.context["form"].errors
    )


@pytest.mark.parametrize("minutes", ["-1", "721", "ten", "1.5"])
def test_minimum_minutes_out_of_range_is_refused(cast: Cast, http_as: HttpAs, minutes: str) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_code_new"), _code_data(minimum_minutes=minutes)
    )
    assert response.context["form"].errors["minimum_minutes"] == [
        "Enter a whole number from 0 to 720."
    ]


def test_a_description_longer_than_200_characters_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_code_new"), _code_data(description="x" * 201)
    )
    assert "description" in response.context["form"].errors


def test_an_unknown_credential_type_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_code_new"), _code_data(allowed_credentials=["wizard"])
    )
    assert "allowed_credentials" in response.context["form"].errors


def test_the_same_code_and_modifiers_twice_is_refused(cast: Cast, http_as: HttpAs) -> None:
    _code(cast, "T1017", modifiers="HF U1")
    response = http_as(cast.admin).post(reverse("billing_code_new"), _code_data())
    assert response.context["form"].errors["code"] == ["T1017 HF U1 is already in the catalogue."]


def test_the_same_code_with_other_modifiers_is_another_entry(cast: Cast, http_as: HttpAs) -> None:
    _code(cast, "T1017")
    http_as(cast.admin).post(reverse("billing_code_new"), _code_data(modifiers="HF"))
    assert sorted(ServiceCode.objects.values_list("modifiers", flat=True)) == ["", "HF"]


def test_a_refused_code_form_keeps_what_was_typed(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_code_new"),
        _code_data(code="T10", description="Gestión de casos — ñ", minimum_minutes="12"),
    )
    page = response.content.decode()
    assert 'value="T10"' in page and 'value="Gestión de casos — ñ"' in page
    assert 'value="12"' in page
    assert 'value="sudp" id="id_allowed_credentials_' in page
    form = response.context["form"]
    assert form["allowed_places"].value() == ["12", "99", "02"]


# ---------------------------------------------------------------------------- editing codes


def test_billing_staff_edit_a_code(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    response = http_as(cast.billing).post(
        reverse("billing_code_edit", args=[code.pk]),
        _code_data(code="T1017", modifiers="", is_active=None, description="TCM"),
    )
    assert response.status_code == 302
    code.refresh_from_db()
    assert (code.description, code.is_active) == ("TCM", False)
    event = AuditEvent.objects.get(object_type="billing.servicecode", action="update")
    assert "description" in json.loads(event.detail)["fields"]


def _charge_on(cast: Cast, code: ServiceCode) -> Charge:
    note = Note.objects.create(
        agency=cast.agency,
        client=cast.client,
        author=cast.case_manager,
        service_date=datetime.date(2025, 3, 3),
        service_code=code,
    )
    return Charge.objects.create(
        agency=cast.agency,
        note=note,
        client=cast.client,
        service_code=code,
        rendering_provider=cast.case_manager,
        service_date=note.service_date,
        minutes=30,
        units=2,
        unit_rule="cms_8_minute",
        place_of_service="12",
        status=Charge.Status.READY,
    )


def test_the_code_of_an_entry_that_charges_use_cannot_change(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    _charge_on(cast, code)
    response = http_as(cast.billing).post(
        reverse("billing_code_edit", args=[code.pk]), _code_data(code="T1016", modifiers="")
    )
    assert response.context["form"].errors["code"] == [
        "Signed notes already use T1017, so its code and modifiers stay. "
        "Add the new code instead and mark this one inactive."
    ]
    code.refresh_from_db()
    assert code.code == "T1017"


def test_the_description_of_an_entry_that_charges_use_may_change(
    cast: Cast, http_as: HttpAs
) -> None:
    code = _code(cast)
    _charge_on(cast, code)
    http_as(cast.billing).post(
        reverse("billing_code_edit", args=[code.pk]),
        _code_data(code="T1017", modifiers="", description="TCM (renamed)"),
    )
    code.refresh_from_db()
    assert code.description == "TCM (renamed)"


# ---------------------------------------------------------------------------- fee schedule


def _rate_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"payer": "", "effective_from": "2025-07-01", "rate": "27.50"}
    data.update(overrides)
    return data


def test_billing_staff_add_a_default_rate(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    response = http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data()
    )
    assert response.status_code == 302
    rate = FeeRate.objects.get(service_code=code)
    assert (rate.payer, rate.effective_from, rate.rate) == (
        None,
        datetime.date(2025, 7, 1),
        Decimal("27.50"),
    )
    event = AuditEvent.objects.get(object_type="billing.feerate", action="create")
    assert json.loads(event.detail)["rate"] == "27.50"


@pytest.mark.parametrize(
    ("typed", "stored"), [("$1,234.50", "1234.50"), (" 0 ", "0.00"), ("99999.99", "99999.99")]
)
def test_rates_are_read_as_people_type_them(
    cast: Cast, http_as: HttpAs, typed: str, stored: str
) -> None:
    code = _code(cast)
    http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data(rate=typed)
    )
    assert FeeRate.objects.get(service_code=code).rate == Decimal(stored)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", RATE_MESSAGE),
        ("-1", RATE_MESSAGE),
        ("100000", RATE_MESSAGE),
        ("twelve", RATE_MESSAGE),
        ("12.345", "Give the rate to the cent at most, e.g. 27.50."),
    ],
)
def test_a_bad_rate_is_refused_with_a_message(
    cast: Cast, http_as: HttpAs, typed: str, message: str
) -> None:
    code = _code(cast)
    response = http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data(rate=typed)
    )
    assert response.context["form"].errors["rate"] == [message]
    assert not FeeRate.objects.exists()


def test_a_second_rate_on_the_same_date_for_the_same_payer_is_refused(
    cast: Cast, http_as: HttpAs
) -> None:
    code = _code(cast)
    payer = PayerFactory(agency=cast.agency, name="Molina Healthcare")
    _rate(code, "2025-07-01", "25.00", payer)
    response = http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data(payer=payer.pk, rate="30.00")
    )
    assert response.context["form"].errors["effective_from"] == [
        "There is already a rate for Molina Healthcare from 07/01/2025 ($25.00). "
        "Rates are never changed; choose another date."
    ]
    assert FeeRate.objects.get(service_code=code).rate == Decimal("25.00")
    page = response.content.decode()
    assert 'value="30.00"' in page and 'value="2025-07-01"' in page


def test_a_second_default_rate_on_the_same_date_is_refused(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    _rate(code, "2025-07-01", "25.00")
    response = http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data()
    )
    assert "There is already a rate for the agency default from 07/01/2025" in str(
        response.context["form"].errors["effective_from"]
    )


def test_a_payers_rate_and_the_default_may_start_the_same_day(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    payer = PayerFactory(agency=cast.agency)
    _rate(code, "2025-07-01", "25.00")
    http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data(payer=payer.pk)
    )
    assert FeeRate.objects.filter(service_code=code).count() == 2


def test_another_agencys_payer_cannot_be_given_a_rate(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    theirs = PayerFactory(agency=cast.outsider_agency)
    response = http_as(cast.billing).post(
        reverse("billing_code_rates", args=[code.pk]), _rate_data(payer=theirs.pk)
    )
    assert "payer" in response.context["form"].errors
    assert not FeeRate.objects.exists()


def test_the_fee_schedule_marks_rates_in_effect_scheduled_and_superseded(
    cast: Cast, http_as: HttpAs
) -> None:
    code = _code(cast)
    payer = PayerFactory(agency=cast.agency, name="Molina Healthcare")
    today = cast.agency.today()
    _rate(code, "2020-01-01", "20.00")
    _rate(code, "2024-01-01", "22.00")
    _rate(code, (today + datetime.timedelta(days=10)).isoformat(), "24.00")
    _rate(code, "2023-01-01", "30.00", payer)
    rows = http_as(cast.billing).get(reverse("billing_code_rates", args=[code.pk])).context["rows"]
    assert [(r.rate.payer_id, str(r.rate.rate), r.state) for r in rows] == [
        (None, "24.00", "scheduled"),
        (None, "22.00", "current"),
        (None, "20.00", "superseded"),
        (payer.pk, "30.00", "current"),
    ]


def test_the_catalogue_shows_the_default_rate_in_effect_today(cast: Cast, http_as: HttpAs) -> None:
    code = _code(cast)
    _code(cast, "H0023", unit_type="encounter")
    _rate(code, "2020-01-01", "20.00")
    _rate(code, "2024-01-01", "22.00")
    _rate(code, "2099-01-01", "99.00")
    codes = http_as(cast.billing).get(reverse("billing_code_list")).context["codes"]
    assert {c.code: c.default_rate for c in codes} == {"H0023": None, "T1017": Decimal("22.00")}


# ---------------------------------------------------------------------------- rate_on


@pytest.fixture
def priced(cast: Cast) -> tuple[ServiceCode, Payer, Payer]:
    """T1017: default $10 from 2025-01-01 and $12 from 2025-07-01; Molina's own $15 from
    2025-04-01; Amerigroup has none."""
    code = _code(cast)
    molina = PayerFactory(agency=cast.agency, name="Molina")
    amerigroup = PayerFactory(agency=cast.agency, name="Amerigroup")
    _rate(code, "2025-01-01", "10.00")
    _rate(code, "2025-07-01", "12.00")
    _rate(code, "2025-04-01", "15.00", molina)
    return code, molina, amerigroup


@pytest.mark.parametrize(
    ("day", "payer", "expected"),
    [
        ("2024-12-31", "none", None),
        ("2024-12-31", "molina", None),
        ("2025-01-01", "none", "10.00"),
        ("2025-01-02", "none", "10.00"),
        ("2025-03-31", "molina", "10.00"),
        ("2025-04-01", "molina", "15.00"),
        ("2025-04-02", "molina", "15.00"),
        ("2025-04-01", "amerigroup", "10.00"),
        ("2025-06-30", "none", "10.00"),
        ("2025-07-01", "none", "12.00"),
        ("2025-07-01", "amerigroup", "12.00"),
        ("2025-07-01", "molina", "15.00"),
        ("2030-01-01", "molina", "15.00"),
    ],
)
def test_rate_on_picks_the_version_in_effect_and_the_payers_own_first(
    priced: tuple[ServiceCode, Payer, Payer],
    django_assert_num_queries: Any,
    day: str,
    payer: str,
    expected: str | None,
) -> None:
    code, molina, amerigroup = priced
    who = {"none": None, "molina": molina, "amerigroup": amerigroup}[payer]
    with django_assert_num_queries(1):
        rate = rate_on(service_code=code, payer=who, day=datetime.date.fromisoformat(day))
    assert rate == (Decimal(expected) if expected else None)


def test_rate_on_ignores_other_codes_rates(cast: Cast) -> None:
    code, other = _code(cast), _code(cast, "H0023")
    _rate(other, "2020-01-01", "99.00")
    assert rate_on(service_code=code, payer=None, day=datetime.date(2025, 1, 1)) is None


# ---------------------------------------------------------------------------- list query count


def _codes_with_rates(cast: Cast, start: int, count: int) -> None:
    for n in range(start, start + count):
        code = _code(cast, f"H{n:04d}")
        _rate(code, "2020-01-01", "20.00")
        _rate(code, "2024-01-01", "21.00")


def _queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_catalogue_runs_the_same_number_of_queries_for_3_or_30_codes(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.billing)
    http.get(reverse("home"))  # the first request after sign-in also writes the session
    _codes_with_rates(cast, 0, 3)
    few = _queries(http, reverse("billing_code_list"))
    _codes_with_rates(cast, 3, 27)
    assert _queries(http, reverse("billing_code_list")) == few


def test_the_fee_schedule_runs_the_same_number_of_queries_for_3_or_30_rates(
    cast: Cast, http_as: HttpAs
) -> None:
    code = _code(cast)
    http = http_as(cast.billing)
    http.get(reverse("home"))
    for n in range(3):
        _rate(code, f"2020-01-{n + 1:02d}", "20.00", PayerFactory(agency=cast.agency))
    url = reverse("billing_code_rates", args=[code.pk])
    few = _queries(http, url)
    for n in range(27):
        _rate(code, f"2021-01-{n + 1:02d}", "20.00", PayerFactory(agency=cast.agency))
    assert _queries(http, url) == few


# ---------------------------------------------------------------------------- the standard codes


def test_the_standard_codes_file_cites_its_source_and_says_rates_are_illustrative() -> None:
    raw = json.loads(services.SEED_FILE.read_text(encoding="utf-8"))
    assert "DOMAIN.md" in raw["_source"] and "illustrative" in raw["_source"].lower()
    labels = {f"{c['code']} {c['modifiers']}".strip() for c in raw["codes"]}
    assert labels == {
        "T1016",
        "T1017",
        "T1017 HF",
        "H0036",
        "H2015",
        "H2014",
        "H0038",
        "H0038 HF",
        "H2011",
        "H0023",
        "H0032",
        "G9012",
    }


def test_every_standard_code_is_well_formed() -> None:
    for item in services.standard_codes():
        assert services.clean_procedure_code(item["code"]) == item["code"]
        assert services.clean_modifiers(item["modifiers"]) == item["modifiers"]
        assert item["unit_type"] in ServiceCode.UnitType.values
        assert set(item["allowed_places"]) <= set(PLACES_OF_SERVICE)
        assert set(item["allowed_credentials"]) <= set(credential_types())
        assert Decimal(item["default_rate"]) > 0
        datetime.date.fromisoformat(item["rate_effective_from"])


def test_the_peer_codes_are_for_peer_credentials_only() -> None:
    peers = {
        f"{c['code']} {c['modifiers']}".strip(): c["allowed_credentials"]
        for c in services.standard_codes()
        if c["code"] == "H0038"
    }
    assert peers == {
        "H0038": ["certified_peer_counselor", "certified_peer_specialist"],
        "H0038 HF": ["certified_peer_counselor", "certified_peer_specialist"],
    }


def test_loading_the_standard_codes_adds_each_with_a_default_rate(cast: Cast) -> None:
    added = services.catalogue_seed(agency=cast.agency, by=cast.billing)
    assert added == 12
    codes = ServiceCode.objects.filter(agency=cast.agency)
    assert codes.count() == 12
    assert FeeRate.objects.filter(service_code__agency=cast.agency, payer=None).count() == 12
    encounter = {c.label for c in codes if c.unit_type == "encounter"}
    assert encounter == {"H0023", "H0032", "G9012"}
    assert (
        AuditEvent.objects.filter(object_type="billing.servicecode", action="create").count() == 12
    )


def test_loading_the_standard_codes_twice_adds_nothing_the_second_time(cast: Cast) -> None:
    services.catalogue_seed(agency=cast.agency, by=cast.billing)
    assert services.catalogue_seed(agency=cast.agency, by=cast.billing) == 0
    assert ServiceCode.objects.filter(agency=cast.agency).count() == 12
    assert FeeRate.objects.filter(service_code__agency=cast.agency).count() == 12


def test_loading_the_standard_codes_keeps_the_agencys_own_version_of_a_code(cast: Cast) -> None:
    own = _code(cast, "T1017", description="Our TCM", unit_type="hour")
    assert services.catalogue_seed(agency=cast.agency, by=cast.billing) == 11
    own.refresh_from_db()
    assert (own.description, own.unit_type) == ("Our TCM", "hour")
    assert not FeeRate.objects.filter(service_code=own).exists()


def test_loading_the_standard_codes_touches_no_other_agency(cast: Cast) -> None:
    services.catalogue_seed(agency=cast.agency, by=cast.billing)
    assert not ServiceCode.objects.filter(agency=cast.outsider_agency).exists()


def test_the_empty_catalogue_offers_the_standard_codes(cast: Cast, http_as: HttpAs) -> None:
    page = http_as(cast.billing).get(reverse("billing_code_list")).content.decode()
    assert "Load the standard codes" in page and "illustrative" in page


def test_the_button_loads_the_standard_codes(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.billing)
    response = http.post(reverse("billing_catalogue_seed"), {"load": "standard"}, follow=True)
    assert ServiceCode.objects.filter(agency=cast.agency).count() == 12
    page = response.content.decode()
    assert "Added 12 standard codes" in page and "Load the standard codes" not in page


def test_a_post_without_the_buttons_value_loads_nothing(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.billing).post(reverse("billing_catalogue_seed"))
    assert not ServiceCode.objects.exists()
