"""My day (the foundation part): my clients, and credentials expiring shown ahead of time."""

from __future__ import annotations

import datetime

import pytest

from casework.testing.factories import CredentialFactory
from casework.testing.personas import Cast


@pytest.mark.django_db
def test_my_day_lists_the_clients_i_am_primary_for(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    body = http_as(cast.case_manager).get("/").content.decode()
    assert f"/clients/{cast.client.pk}/" in body
    assert f"/clients/{cast.client.pk}/" not in http_as(cast.colleague).get("/").content.decode()


@pytest.mark.django_db
def test_expiring_credential_is_shown_to_its_holder_and_to_admins(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    CredentialFactory(
        user=cast.case_manager, number="CO60001234", expires_on=today + datetime.timedelta(days=20)
    )
    mine = http_as(cast.case_manager).get("/").content.decode()
    assert "CO60001234" in mine and "Renew it" in mine
    admin = http_as(cast.admin).get("/").content.decode()
    assert "Staff credentials expiring" in admin and cast.case_manager.full_name in admin
    assert "CO60001234" not in http_as(cast.colleague).get("/").content.decode()


@pytest.mark.django_db
def test_credentials_far_from_expiry_are_not_shown(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    CredentialFactory(
        user=cast.case_manager, number="CO60009999", expires_on=today + datetime.timedelta(days=200)
    )
    assert "CO60009999" not in http_as(cast.case_manager).get("/").content.decode()


@pytest.mark.django_db
def test_expired_credentials_say_expired(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    CredentialFactory(
        user=cast.case_manager, number="CO60005555", expires_on=today - datetime.timedelta(days=2)
    )
    assert "expired on" in http_as(cast.case_manager).get("/").content.decode()


@pytest.mark.django_db
def test_warning_window_is_the_agency_setting(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    cast.agency.credential_warning_days = 10
    cast.agency.save()
    CredentialFactory(
        user=cast.case_manager,
        number="CO60007777",
        expires_on=cast.agency.today() + datetime.timedelta(days=20),
    )
    assert "CO60007777" not in http_as(cast.case_manager).get("/").content.decode()


@pytest.mark.django_db
def test_other_agencies_credentials_never_reach_an_admin(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    CredentialFactory(user=cast.outsider_cm, number="CO60003333", expires_on=cast.agency.today())
    assert cast.outsider_cm.full_name not in http_as(cast.admin).get("/").content.decode()


@pytest.mark.django_db
def test_account_page_shows_roles_and_links_to_api_tokens(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    body = http_as(cast.supervisor).get("/account/").content.decode()
    assert "Supervisor" in body and "/account/api-tokens/" in body and "Sign out everywhere" in body
