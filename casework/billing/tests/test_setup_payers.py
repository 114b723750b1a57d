"""Payers on the billing set-up screens: adding, editing, bad input, and each payer's own unit
rule for single service codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.billing.models import Payer, PayerCodeRule, ServiceCode, UnitRule
from casework.core.models import AuditEvent, User
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


def _code(cast: Cast, code: str = "T1017", **fields: Any) -> ServiceCode:
    defaults: dict[str, Any] = {"description": "Targeted case management", "unit_type": "15min"}
    defaults.update(fields)
    return ServiceCode.objects.create(agency=cast.agency, code=code, **defaults)


def _payer_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Amerigroup Washington",
        "kind": Payer.Kind.MEDICAID_MCO,
        "payer_id": "26375",
        "filing_indicator": "MC",
        "unit_rule": UnitRule.HALF_UNIT,
        "requires_authorization": "on",
        "bills_electronically": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# ---------------------------------------------------------------------------- adding


def test_billing_staff_add_a_payer(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.billing).post(reverse("billing_payer_new"), _payer_data())
    payer = Payer.objects.get(agency=cast.agency)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing_payer_edit", args=[payer.pk])
    assert (payer.name, payer.payer_id, payer.unit_rule) == (
        "Amerigroup Washington",
        "26375",
        UnitRule.HALF_UNIT,
    )
    assert payer.requires_authorization and payer.bills_electronically and payer.is_active


def test_adding_a_payer_is_audited(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.billing).post(reverse("billing_payer_new"), _payer_data())
    event = AuditEvent.objects.get(object_type="billing.payer", action="create")
    assert event.actor_id == cast.billing.pk and event.agency_id == cast.agency.pk


def test_a_grant_funder_needs_no_payer_id_when_it_is_not_billed_electronically(
    cast: Cast, http_as: HttpAs
) -> None:
    http_as(cast.admin).post(
        reverse("billing_payer_new"),
        _payer_data(name="County levy grant", kind="grant", payer_id="", bills_electronically=None),
    )
    payer = Payer.objects.get(agency=cast.agency)
    assert payer.payer_id == "" and not payer.bills_electronically


def test_a_payer_billed_electronically_needs_its_payer_id(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(reverse("billing_payer_new"), _payer_data(payer_id=""))
    assert response.context["form"].errors["payer_id"] == [
        "Give the payer id the clearinghouse uses, or untick “bills electronically”."
    ]
    assert not Payer.objects.filter(agency=cast.agency).exists()


@pytest.mark.parametrize("payer_id", ["26*375", "26~375", "AB:1", "Zoë1", "7"])
def test_a_payer_id_an_x12_file_cannot_carry_is_refused(
    cast: Cast, http_as: HttpAs, payer_id: str
) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_payer_new"), _payer_data(payer_id=payer_id)
    )
    assert "payer_id" in response.context["form"].errors
    assert not Payer.objects.filter(agency=cast.agency).exists()


def test_an_empty_payer_form_names_each_missing_field(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(reverse("billing_payer_new"), {})
    errors = response.context["form"].errors
    assert {"name", "kind", "filing_indicator", "unit_rule"} <= set(errors)
    assert "Please fix" in response.content.decode()


def test_a_payer_name_longer_than_200_characters_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(reverse("billing_payer_new"), _payer_data(name="A" * 201))
    assert response.context["form"].errors["name"] == [
        "Ensure this value has at most 200 characters (it has 201)."
    ]


def test_a_payer_name_in_any_script_is_kept_as_typed(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(
        reverse("billing_payer_new"), _payer_data(name="Salud Comunitaria — Señora Núñez 医疗")
    )
    assert Payer.objects.get(agency=cast.agency).name == "Salud Comunitaria — Señora Núñez 医疗"


def test_a_second_payer_with_the_same_name_is_refused_on_the_name_field(
    cast: Cast, http_as: HttpAs
) -> None:
    PayerFactory(agency=cast.agency, name="Molina Healthcare")
    response = http_as(cast.admin).post(
        reverse("billing_payer_new"), _payer_data(name="molina healthcare")
    )
    assert response.context["form"].errors["name"] == [
        "There is already a payer called “molina healthcare”."
    ]
    assert Payer.objects.filter(agency=cast.agency).count() == 1


def test_a_payer_name_used_by_another_agency_is_fine(cast: Cast, http_as: HttpAs) -> None:
    PayerFactory(agency=cast.outsider_agency, name="Molina Healthcare")
    http_as(cast.admin).post(reverse("billing_payer_new"), _payer_data(name="Molina Healthcare"))
    assert Payer.objects.filter(agency=cast.agency, name="Molina Healthcare").exists()


def test_a_refused_payer_form_keeps_what_was_typed(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("billing_payer_new"), _payer_data(name="Señor Plan", payer_id="bad*id")
    )
    page = response.content.decode()
    assert 'value="Señor Plan"' in page and 'value="bad*id"' in page
    assert '<option value="half_unit" selected>' in page


# ---------------------------------------------------------------------------- editing


def test_the_payer_page_starts_with_the_payers_details(cast: Cast, http_as: HttpAs) -> None:
    payer = PayerFactory(agency=cast.agency, name="Community Health Plan")
    response = http_as(cast.billing).get(reverse("billing_payer_edit", args=[payer.pk]))
    assert response.context["form"].initial["name"] == "Community Health Plan"


def test_billing_staff_change_a_payer_and_the_change_is_audited(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency, name="Community Health Plan")
    response = http_as(cast.billing).post(
        reverse("billing_payer_edit", args=[payer.pk]),
        _payer_data(name="Community Health Plan of WA", is_active=None),
    )
    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.name == "Community Health Plan of WA" and not payer.is_active
    event = AuditEvent.objects.get(object_type="billing.payer", action="update")
    assert {"name", "is_active", "unit_rule"} <= set(json.loads(event.detail)["fields"])


def test_saving_a_payer_unchanged_writes_no_audit_entry(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.billing)
    http.post(reverse("billing_payer_new"), _payer_data())
    payer = Payer.objects.get(agency=cast.agency)
    http.post(reverse("billing_payer_edit", args=[payer.pk]), _payer_data())
    assert not AuditEvent.objects.filter(object_type="billing.payer", action="update").exists()


def test_renaming_a_payer_to_another_payers_name_is_refused(cast: Cast, http_as: HttpAs) -> None:
    PayerFactory(agency=cast.agency, name="Molina Healthcare")
    payer = PayerFactory(agency=cast.agency, name="Coordinated Care")
    response = http_as(cast.admin).post(
        reverse("billing_payer_edit", args=[payer.pk]), _payer_data(name="Molina Healthcare")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "There is already a payer called “Molina Healthcare”."
    ]
    payer.refresh_from_db()
    assert payer.name == "Coordinated Care"


# ---------------------------------------------------------------------------- the list


def test_the_payer_list_shows_active_payers_first(cast: Cast, http_as: HttpAs) -> None:
    PayerFactory(agency=cast.agency, name="Aardvark Health", is_active=False)
    PayerFactory(agency=cast.agency, name="Zephyr Plan")
    payers = list(http_as(cast.billing).get(reverse("billing_payer_list")).context["payers"])
    assert [p.name for p in payers] == ["Zephyr Plan", "Aardvark Health"]


def test_html_in_a_payer_name_is_shown_escaped(cast: Cast, http_as: HttpAs) -> None:
    PayerFactory(agency=cast.agency, name="<script>alert(1)</script>")
    page = http_as(cast.billing).get(reverse("billing_payer_list")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def _payers_with_rules(cast: Cast, count: int) -> None:
    code = ServiceCode.objects.filter(agency=cast.agency).first() or _code(cast)
    for _ in range(count):
        payer = PayerFactory(agency=cast.agency)
        PayerCodeRule.objects.create(
            agency=cast.agency, payer=payer, service_code=code, unit_rule=UnitRule.FULL_UNITS
        )


def _queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_payer_list_runs_the_same_number_of_queries_for_3_or_30_payers(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.billing)
    http.get(reverse("home"))  # the first request after sign-in also writes the session
    _payers_with_rules(cast, 3)
    few = _queries(http, reverse("billing_payer_list"))
    _payers_with_rules(cast, 27)
    assert _queries(http, reverse("billing_payer_list")) == few


# ---------------------------------------------------------------------------- unit rules per code


def test_the_payer_page_offers_a_unit_rule_for_each_active_code(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency, unit_rule=UnitRule.CMS_8_MINUTE)
    active = _code(cast, "T1017")
    _code(cast, "H0023", unit_type="encounter", is_active=False)
    response = http_as(cast.billing).get(reverse("billing_payer_edit", args=[payer.pk]))
    rules_form = response.context["rules_form"]
    assert [code for code, _ in rules_form.rows] == [active]
    assert "Payer default: CMS 8-minute rule" in response.content.decode()


def test_a_payer_gets_its_own_unit_rule_for_one_code(cast: Cast, http_as: HttpAs) -> None:
    payer = PayerFactory(agency=cast.agency)
    t1017, h2015 = _code(cast, "T1017"), _code(cast, "H2015")
    response = http_as(cast.billing).post(
        reverse("billing_payer_code_rules", args=[payer.pk]),
        {f"code_{t1017.pk}": UnitRule.FIRST_UNIT_ANY, f"code_{h2015.pk}": ""},
    )
    assert response.status_code == 302
    rules = list(PayerCodeRule.objects.filter(payer=payer).values_list("service_code", "unit_rule"))
    assert rules == [(t1017.pk, UnitRule.FIRST_UNIT_ANY)]
    event = AuditEvent.objects.get(object_type="billing.payer", action="update")
    assert json.loads(event.detail)["unit_rules"] == {"T1017": UnitRule.FIRST_UNIT_ANY}


def test_choosing_the_payer_default_again_removes_the_codes_own_rule(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency)
    code = _code(cast)
    PayerCodeRule.objects.create(
        agency=cast.agency, payer=payer, service_code=code, unit_rule=UnitRule.FULL_UNITS
    )
    http_as(cast.billing).post(
        reverse("billing_payer_code_rules", args=[payer.pk]), {f"code_{code.pk}": ""}
    )
    assert not PayerCodeRule.objects.filter(payer=payer).exists()


def test_an_inactive_code_with_its_own_rule_stays_on_the_payer_page(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency)
    code = _code(cast, is_active=False)
    PayerCodeRule.objects.create(
        agency=cast.agency, payer=payer, service_code=code, unit_rule=UnitRule.FULL_UNITS
    )
    response = http_as(cast.billing).get(reverse("billing_payer_edit", args=[payer.pk]))
    rows = response.context["rules_form"].rows
    assert [c for c, _ in rows] == [code] and rows[0][1].initial == UnitRule.FULL_UNITS


def test_an_unknown_unit_rule_is_refused_and_the_page_keeps_the_choices(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency)
    code = _code(cast)
    response = http_as(cast.billing).post(
        reverse("billing_payer_code_rules", args=[payer.pk]), {f"code_{code.pk}": "sometimes"}
    )
    assert response.status_code == 200
    assert f"code_{code.pk}" in response.context["rules_form"].errors
    assert not PayerCodeRule.objects.exists()


def test_another_agencys_code_cannot_get_a_rule_through_this_payer(
    cast: Cast, http_as: HttpAs
) -> None:
    payer = PayerFactory(agency=cast.agency)
    theirs = ServiceCode.objects.create(
        agency=cast.outsider_agency, code="T1016", description="Case management", unit_type="15min"
    )
    http_as(cast.billing).post(
        reverse("billing_payer_code_rules", args=[payer.pk]),
        {f"code_{theirs.pk}": UnitRule.FULL_UNITS},
    )
    assert not PayerCodeRule.objects.exists()
