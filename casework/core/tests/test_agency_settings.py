"""The agency settings page: only the agency's admins change it, bad values get field messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient
from django.urls import reverse

from casework.core import services
from casework.core.models import Agency, AuditEvent, User
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

VALID_NPI = "1234567893"


def _settings_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Cascadia Community Services",
        "time_zone": "America/Los_Angeles",
        "npi": VALID_NPI,
        "tax_id": "91-1234567",
        "address_line1": "100 Pine St",
        "address_line2": "Suite 2",
        "city": "Seattle",
        "state": "wa",
        "postal_code": "98101",
        "phone": "206-555-0100",
        "idle_timeout_minutes": "20",
        "require_two_factor_for_all": "on",
        "credential_warning_days": "45",
        "break_glass_minutes": "90",
        "note_template": "soap",
        "late_note_days": "5",
        "plan_first_due_days": "21",
        "plan_review_every_days": "90",
        "contact_every_days": "14",
        "calendar_feeds_enabled": "on",
        "weight_due": "3",
        "weight_risk": "5",
        "weight_billing": "2",
        "weight_contact": "0",
    }
    data.update(overrides)
    return data


def _post(http: HttpClient, **overrides: object) -> Any:
    return http.post(reverse("agency_settings"), _settings_data(**overrides))


def test_the_settings_page_shows_the_agencys_values(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).get(reverse("agency_settings"))
    assert response.status_code == 200
    assert response.context["form"].initial["name"] == "Home Agency"


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "billing", "auditor"])
def test_only_admins_open_the_settings_page(cast: Cast, http_as: HttpAs, persona: str) -> None:
    assert http_as(getattr(cast, persona)).get(reverse("agency_settings")).status_code == 403


def test_non_admins_cannot_post_settings(cast: Cast, http_as: HttpAs) -> None:
    assert _post(http_as(cast.billing)).status_code == 403
    assert Agency.objects.get(pk=cast.agency.pk).name == "Home Agency"


def test_saving_changes_the_agency(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin))
    assert response.status_code == 302
    agency = Agency.objects.get(pk=cast.agency.pk)
    assert (agency.name, agency.npi, agency.state) == (
        "Cascadia Community Services",
        VALID_NPI,
        "WA",
    )
    assert agency.idle_timeout_minutes == 20 and agency.require_two_factor_for_all
    assert not agency.billing_sees_narratives


def test_saving_is_audited_with_the_changed_fields(cast: Cast, http_as: HttpAs) -> None:
    _post(http_as(cast.admin))
    event = AuditEvent.objects.filter(object_type="core.agency").first()
    assert event is not None and event.actor_id == cast.admin.pk
    assert "idle_timeout_minutes" in json.loads(event.detail)["fields"]


def test_an_outside_admin_only_changes_their_own_agency(cast: Cast, http_as: HttpAs) -> None:
    _post(http_as(cast.outsider_admin), name="Renamed")
    assert Agency.objects.get(pk=cast.agency.pk).name == "Home Agency"
    assert Agency.objects.get(pk=cast.outsider_agency.pk).name == "Renamed"


def test_an_npi_with_a_wrong_check_digit_gets_a_field_message(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), npi="1234567890")
    assert response.context["form"].errors["npi"] == [
        "This NPI's check digit is wrong; please check for a typo."
    ]
    assert Agency.objects.get(pk=cast.agency.pk).npi == ""


def test_an_npi_that_is_not_ten_digits_gets_a_field_message(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), npi="12345")
    assert response.context["form"].errors["npi"] == ["An NPI is exactly 10 digits."]


@pytest.mark.parametrize("minutes", ["1", "241", "-5"])
def test_an_idle_timeout_out_of_range_gets_a_field_message(
    cast: Cast, http_as: HttpAs, minutes: str
) -> None:
    response = _post(http_as(cast.admin), idle_timeout_minutes=minutes)
    assert response.context["form"].errors["idle_timeout_minutes"] == [
        "The idle time-out must be between 2 and 240."
    ]
    assert Agency.objects.get(pk=cast.agency.pk).idle_timeout_minutes == 15


def test_a_break_glass_period_out_of_range_gets_a_field_message(
    cast: Cast, http_as: HttpAs
) -> None:
    response = _post(http_as(cast.admin), break_glass_minutes="2000")
    assert "break_glass_minutes" in response.context["form"].errors


def test_a_bad_tax_id_gets_a_field_message(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), tax_id="ABC")
    assert "tax_id" in response.context["form"].errors


def test_an_unknown_time_zone_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), time_zone="Mars/Olympus_Mons")
    assert "time_zone" in response.context["form"].errors


def test_a_bad_zip_code_gets_a_field_message(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), postal_code="9810")
    assert response.context["form"].errors["postal_code"] == [
        "A ZIP code is 5 digits, or ZIP+4 written 98101-1234."
    ]


def test_a_failed_save_keeps_what_was_typed_and_escapes_it(cast: Cast, http_as: HttpAs) -> None:
    response = _post(
        http_as(cast.admin), name="Servicios <b>Comunitarios</b> d'Été", npi="1234567890"
    )
    page = response.content.decode()
    assert 'value="Servicios &lt;b&gt;Comunitarios&lt;/b&gt; d&#x27;Été"' in page
    assert "<b>Comunitarios</b>" not in page


def test_a_name_longer_than_200_characters_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.admin), name="x" * 201)
    assert "at most 200 characters" in response.content.decode()


def test_a_failed_save_does_not_change_the_idle_limit_of_the_page(
    cast: Cast, http_as: HttpAs
) -> None:
    response = _post(http_as(cast.admin), idle_timeout_minutes="30", npi="1234567890")
    assert response.context["shell"]["idle_seconds"] == 15 * 60


def test_agency_update_refuses_fields_that_are_not_settings(cast: Cast) -> None:
    with pytest.raises(services.AgencySetupError, match="next_record_number"):
        services.agency_update(agency=cast.agency, by=cast.admin, next_record_number=1)


def test_agency_update_refuses_another_agency(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.agency_update(agency=cast.outsider_agency, by=cast.admin, name="Taken over")


def test_note_settings_are_saved_and_checked(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.admin)
    assert _post(http, late_note_days="0").status_code == 200  # refused, shown again
    assert _post(http, note_template="poem").status_code == 200
    _post(http)
    cast.agency.refresh_from_db()
    assert (cast.agency.note_template, cast.agency.late_note_days) == ("soap", 5)


def test_plan_deadlines_are_saved_and_checked(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.admin)
    refused = _post(http, plan_first_due_days="0", plan_review_every_days="400")
    assert "The first plan&#x27;s deadline must be between 1 and 365." in refused.content.decode()
    assert "The review interval must be between 7 and 365." in refused.content.decode()
    _post(http)
    cast.agency.refresh_from_db()
    assert (cast.agency.plan_first_due_days, cast.agency.plan_review_every_days) == (21, 90)


def test_priority_weights_and_contact_standard_are_agency_settings(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    assert _post(http).status_code == 302
    cast.agency.refresh_from_db()
    assert cast.agency.priority_weights == {"due": 3, "risk": 5, "billing": 2, "contact": 0}
    assert cast.agency.contact_every_days == 14
    refused = _post(http, weight_risk="11", contact_every_days="0")
    assert refused.status_code == 200
    assert "Ensure this value is less than or equal to 10." in refused.content.decode()
    cast.agency.refresh_from_db()
    assert cast.agency.priority_weights["risk"] == 5
