"""The agency's claim settings: one set per agency, X12-safe identifiers, test or production,
and where the billing provider's NPI, tax id and address come from."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from casework.billing.models import ClaimSettings
from casework.core.models import Agency, AuditEvent, User
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


def _data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "submitter_id": "CW123456",
        "submitter_contact": "Renée Billing",
        "submitter_phone": "(206) 555-0142",
        "receiver_name": "Washington HCA ProviderOne",
        "receiver_id": "77045",
        "interchange_sender_id": "CW123456",
        "interchange_receiver_id": "77045",
        "taxonomy_code": "251s00000x",
        "is_test": "test",
    }
    data.update(overrides)
    return data


def _post(http: HttpClient, **overrides: object) -> Any:
    return http.post(reverse("billing_claim_settings"), _data(**overrides))


def test_the_page_starts_with_the_usual_receiver_and_test_files(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.billing).get(reverse("billing_claim_settings"))
    form = response.context["form"]
    assert form["receiver_id"].value() == "77045" and form["is_test"].value() == "test"


def test_billing_staff_save_the_claim_settings(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.billing))
    assert response.status_code == 302
    settings = ClaimSettings.objects.get(agency=cast.agency)
    assert (settings.submitter_id, settings.submitter_contact, settings.taxonomy_code) == (
        "CW123456",
        "Renée Billing",
        "251S00000X",
    )
    assert settings.is_test and settings.next_control_number == 1
    event = AuditEvent.objects.get(object_type="billing.claimsettings", action="create")
    assert event.actor_id == cast.billing.pk


def test_saving_again_changes_the_one_set_and_audits_the_fields(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    _post(http)
    _post(http, is_test="production", submitter_contact="Sam Ortiz")
    settings = ClaimSettings.objects.get(agency=cast.agency)
    assert not settings.is_test and settings.submitter_contact == "Sam Ortiz"
    event = AuditEvent.objects.get(object_type="billing.claimsettings", action="update")
    assert sorted(json.loads(event.detail)["fields"]) == ["is_test", "submitter_contact"]
    page = http.get(reverse("billing_claim_settings")).content.decode()
    assert 'value="production" id="id_is_test_1" required checked>' in page


def test_saving_does_not_move_the_control_number(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.admin)
    _post(http)
    ClaimSettings.objects.filter(agency=cast.agency).update(next_control_number=57)
    _post(http, submitter_contact="Sam Ortiz", next_control_number="1")
    assert ClaimSettings.objects.get(agency=cast.agency).next_control_number == 57


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("submitter_id", "CW*123"),
        ("submitter_id", "C"),
        ("submitter_id", "Çw123"),
        ("receiver_id", "77~045"),
        ("interchange_sender_id", "A" * 16),
        ("interchange_sender_id", "CW:1"),
        ("interchange_receiver_id", ""),
        ("submitter_phone", "555-0142"),
        ("submitter_phone", "call Renée"),
        ("submitter_phone", "206-555-0142-99"),
        ("taxonomy_code", "251S0000"),
        ("taxonomy_code", "251S00000Y"),
        ("submitter_contact", ""),
        ("submitter_contact", "x" * 61),
        ("is_test", "maybe"),
    ],
)
def test_values_a_claim_file_cannot_carry_are_refused(
    cast: Cast, http_as: HttpAs, field: str, typed: str
) -> None:
    response = _post(http_as(cast.billing), **{field: typed})
    assert field in response.context["form"].errors
    assert not ClaimSettings.objects.exists()


def test_an_x12_delimiter_gets_a_message_that_says_why(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.billing), submitter_id="CW*123")
    assert response.context["form"].errors["submitter_id"] == [
        "The submitter id can hold letters, digits and simple punctuation only "
        "(not * : ~ ^, which separate the parts of a claim file, nor accented letters)."
    ]


def test_a_refused_form_keeps_what_was_typed(cast: Cast, http_as: HttpAs) -> None:
    response = _post(http_as(cast.billing), submitter_id="CW*123", submitter_contact="Zoë Núñez")
    page = response.content.decode()
    assert 'value="CW*123"' in page and 'value="Zoë Núñez"' in page
    assert 'value="(206) 555-0142"' in page


def test_the_page_says_where_the_npi_tax_id_and_address_come_from(
    cast: Cast, http_as: HttpAs
) -> None:
    Agency.objects.filter(pk=cast.agency.pk).update(npi="1234567893", tax_id="91-1234567")
    page = http_as(cast.admin).get(reverse("billing_claim_settings")).content.decode()
    assert "NPI, tax id and address" in page and "1234567893" in page
    assert f'href="{reverse("agency_settings")}"' in page
    assert "give the address, city, ZIP code" in page


def test_billing_staff_are_told_an_admin_changes_the_agency_settings(
    cast: Cast, http_as: HttpAs
) -> None:
    page = http_as(cast.billing).get(reverse("billing_claim_settings")).content.decode()
    assert f'href="{reverse("agency_settings")}"' not in page
    assert "An agency admin changes them in the agency settings." in page


def test_an_outside_admin_only_changes_their_own_agencys_settings(
    cast: Cast, http_as: HttpAs
) -> None:
    _post(http_as(cast.outsider_admin))
    assert not ClaimSettings.objects.filter(agency=cast.agency).exists()
    assert ClaimSettings.objects.filter(agency=cast.outsider_agency).exists()
