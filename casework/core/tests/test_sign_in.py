"""Signing in and out: passwords, lockout, two-factor, idle time-out, sign out everywhere, reset."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client as HttpClient
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.core.middleware import LAST_ACTIVITY_KEY
from casework.core.models import AuditEvent, User
from casework.core.twofactor import SETUP_KEY
from casework.testing.factories import PASSWORD
from casework.testing.personas import Cast


def sign_in(http: HttpClient, email: str, password: str = PASSWORD) -> HttpClient:
    http.post("/login/", {"username": email, "password": password})
    return http


def current_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


@pytest.mark.django_db
def test_case_manager_signs_in_with_email_in_any_case(cast: Cast) -> None:
    http = HttpClient()
    response = http.post("/login/", {"username": "CM@Home.Example", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert http.get("/").status_code == 200
    assert AuditEvent.objects.filter(actor_id=cast.case_manager.pk, action="login").exists()


@pytest.mark.django_db
def test_wrong_password_is_refused_and_audited(cast: Cast) -> None:
    response = HttpClient().post("/login/", {"username": "cm@home.example", "password": "wrong"})
    assert "do not match an active account" in response.content.decode()
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.agency_id == cast.agency.pk and failed.actor_label == "cm@home.example"


@pytest.mark.django_db
def test_account_locks_after_repeated_failures(cast: Cast) -> None:
    http = HttpClient()
    for _ in range(5):
        http.post("/login/", {"username": "cm@home.example", "password": "wrong"})
    locked = http.post("/login/", {"username": "cm@home.example", "password": PASSWORD})
    assert locked.status_code == 429 and "Account locked" in locked.content.decode()
    assert HttpClient().get("/").status_code == 302


@pytest.mark.django_db
def test_deactivated_staff_cannot_sign_in(cast: Cast) -> None:
    User.objects.filter(pk=cast.colleague.pk).update(is_active=False)
    response = HttpClient().post(
        "/login/", {"username": cast.colleague.email, "password": PASSWORD}
    )
    assert (
        response.status_code == 200
        and "do not match an active account" in response.content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin", "billing"])
def test_admins_and_billing_must_set_up_two_factor(cast: Cast, persona: str) -> None:
    user = getattr(cast, persona)
    http = sign_in(HttpClient(), user.email)
    response = http.get("/clients/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/account/two-factor/setup/"
    )
    setup = http.get(response["Location"])
    assert "<svg" in setup.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing saved until the code works
    device = TOTPDevice(key=http.session[SETUP_KEY])
    wrong = "000000" if current_code(device) != "000000" else "111111"
    assert (
        "did not match"
        in http.post("/account/two-factor/setup/", {"token": wrong}).content.decode()
    )
    done = http.post(
        "/account/two-factor/setup/?next=/clients/",
        {"token": current_code(device), "next": "/clients/"},
    )
    assert done.status_code == 302 and done["Location"] == "/clients/"
    assert TOTPDevice.objects.get(user=user).confirmed
    assert http.get("/clients/").status_code == 200


@pytest.mark.django_db
def test_anyone_with_a_device_is_asked_for_a_code_at_sign_in(cast: Cast) -> None:
    device = TOTPDevice.objects.create(user=cast.case_manager, name="phone", confirmed=True)
    http = sign_in(HttpClient(), cast.case_manager.email)
    redirect = http.get("/clients/")
    assert redirect["Location"].startswith("/account/two-factor/verify/")
    assert (
        http.post(
            "/account/two-factor/verify/", {"token": current_code(device), "next": "/clients/"}
        )["Location"]
        == "/clients/"
    )
    assert http.get("/clients/").status_code == 200


@pytest.mark.django_db
def test_agency_can_require_two_factor_for_everyone(cast: Cast) -> None:
    cast.agency.require_two_factor_for_all = True
    cast.agency.save()
    http = sign_in(HttpClient(), cast.case_manager.email)
    assert http.get("/")["Location"].startswith("/account/two-factor/setup/")


@pytest.mark.django_db
def test_unverified_session_cannot_use_the_api(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.admin.email)
    assert http.get("/api/v1/").status_code in (401, 403)


@pytest.mark.django_db
def test_idle_session_is_signed_out_and_sent_back_after_sign_in(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.get("/")
    session = http.session
    session[LAST_ACTIVITY_KEY] = time.time() - 16 * 60
    session.save()
    response = http.get("/clients/?q=smith")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=%2Fclients%2F%3Fq%3Dsmith&reason=idle")
    assert (
        "signed out after a period without activity"
        in http.get(response["Location"]).content.decode()
    )
    assert AuditEvent.objects.filter(
        actor_id=cast.case_manager.pk, action="logout", detail__contains="idle"
    ).exists()


@pytest.mark.django_db
def test_idle_limit_is_the_agency_setting(cast: Cast) -> None:
    cast.agency.idle_timeout_minutes = 30
    cast.agency.save()
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.get("/")
    session = http.session
    session[LAST_ACTIVITY_KEY] = time.time() - 20 * 60
    session.save()
    assert http.get("/").status_code == 200
    status = http.get("/session/status").json()
    assert status["authenticated"] and 9 * 60 < status["seconds_left"] <= 30 * 60


@pytest.mark.django_db
def test_status_check_does_not_count_as_activity_but_keepalive_does(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.get("/")
    session = http.session
    session[LAST_ACTIVITY_KEY] = time.time() - 14 * 60
    session.save()
    assert http.get("/session/status").json()["seconds_left"] <= 60
    assert http.get("/session/status").json()["seconds_left"] <= 60
    assert http.post("/session/keepalive").json()["seconds_left"] == 15 * 60
    assert http.get("/session/status").json()["seconds_left"] > 14 * 60


@pytest.mark.django_db
def test_sign_out_everywhere_ends_every_session(cast: Cast) -> None:
    phone, laptop = (
        sign_in(HttpClient(), cast.case_manager.email),
        sign_in(HttpClient(), cast.case_manager.email),
    )
    assert phone.get("/").status_code == laptop.get("/").status_code == 200
    response = laptop.post("/account/sign-out-everywhere/")
    assert response["Location"] == "/login/?reason=everywhere"
    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_needs_post(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager.email)
    assert http.get("/logout/").status_code == 405
    http.post("/logout/")
    assert http.get("/").status_code == 302


@pytest.mark.django_db
def test_password_reset_by_email(cast: Cast) -> None:
    http = HttpClient()
    http.post("/password-reset/", {"email": "cm@home.example"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form = http.get(link.group(1), follow=True)
    new_password = "a-much-longer-new-passphrase"
    done = http.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    assert sign_in(HttpClient(), "cm@home.example", new_password).get("/").status_code == 200
    assert AuditEvent.objects.filter(
        actor_id=cast.case_manager.pk, detail__contains="reset"
    ).exists()


@pytest.mark.django_db
def test_password_reset_for_unknown_email_reveals_nothing(cast: Cast) -> None:
    response = HttpClient().post(
        "/password-reset/", {"email": "nobody@nowhere.example"}, follow=True
    )
    assert "Check your email" in response.content.decode() and len(mail.outbox) == 0


@pytest.mark.django_db
def test_sign_in_redirect_refuses_other_sites(cast: Cast) -> None:
    response = HttpClient().post(
        "/login/",
        {"username": "cm@home.example", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_production_settings_hash_passwords_with_argon2() -> None:
    from casework import settings

    with override_settings(PASSWORD_HASHERS=settings.PRODUCTION_PASSWORD_HASHERS):
        assert make_password("a long passphrase").startswith("argon2")


@pytest.mark.django_db
def test_status_check_after_the_idle_limit_answers_signed_out_in_json(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.get("/")
    session = http.session
    session[LAST_ACTIVITY_KEY] = time.time() - 16 * 60
    session.save()
    assert http.get("/session/status").json() == {"authenticated": False, "seconds_left": 0}
    assert http.get("/").status_code == 302


@pytest.mark.django_db
def test_platform_operators_need_two_factor_for_the_django_admin(cast: Cast) -> None:
    operator = User.objects.create_superuser(
        "ops@platform.example", PASSWORD, first_name="Op", last_name="S"
    )
    http = sign_in(HttpClient(), operator.email)
    assert http.get("/django-admin/")["Location"].startswith("/account/two-factor/setup/")


@pytest.mark.django_db
def test_django_admin_is_read_only(cast: Cast) -> None:
    from casework.testing.personas import sign_in as verified_sign_in

    operator = User.objects.create_superuser(
        "ops@platform.example", PASSWORD, first_name="Op", last_name="S"
    )
    http = verified_sign_in(HttpClient(), operator)
    assert http.get(f"/django-admin/core/user/{cast.case_manager.pk}/change/").status_code == 200
    refused = http.post(
        f"/django-admin/core/user/{cast.case_manager.pk}/change/", {"email": "x@y.example"}
    )
    assert refused.status_code == 403
    assert http.get("/django-admin/core/user/add/").status_code == 403


@pytest.mark.django_db
def test_each_sign_out_is_recorded_once(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.post("/account/sign-out-everywhere/")
    http = sign_in(HttpClient(), cast.case_manager.email)
    http.post("/logout/")
    logouts = AuditEvent.objects.filter(actor_id=cast.case_manager.pk, action="logout")
    assert logouts.count() == 2


@pytest.mark.django_db
def test_the_signed_in_user_comes_with_their_agency_and_a_deactivated_one_does_not_come(
    cast: Cast, django_assert_num_queries: Any
) -> None:
    from casework.core.backends import StaffBackend

    with django_assert_num_queries(1):
        user = StaffBackend().get_user(cast.case_manager.pk)
        assert user is not None and user.agency == cast.agency
    cast.colleague.is_active = False
    cast.colleague.save()
    assert StaffBackend().get_user(cast.colleague.pk) is None
    assert StaffBackend().get_user(0) is None
