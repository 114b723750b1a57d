"""The demo agency: deterministic, synthetic, and usable for every role."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db.models import F, Value
from django.db.models.functions import Concat

from casework.clients.demo import seed_demo
from casework.clients.models import Client, Diagnosis
from casework.core.models import Role, StaffRole, User


@pytest.mark.django_db
def test_same_seed_gives_the_same_clients() -> None:
    day = datetime.date(2026, 11, 23)
    first = seed_demo(clients=15, seed=7, today=day)
    names_a = list(
        Client.objects.filter(agency=first.agency)
        .order_by("record_number")
        .values_list("legal_last_name", "date_of_birth")
    )
    # Free the demo emails so a second demo agency fits in the same database.
    User.objects.update(email=Concat(Value("first-"), F("email")))
    second = seed_demo(clients=15, seed=7, today=day)
    names_b = list(
        Client.objects.filter(agency=second.agency)
        .order_by("record_number")
        .values_list("legal_last_name", "date_of_birth")
    )
    assert names_a == names_b and len(names_a) == 15


@pytest.mark.django_db
def test_demo_agency_has_twelve_staff_across_every_role() -> None:
    result = seed_demo(clients=5, seed=1)
    assert User.objects.filter(agency=result.agency).count() == 12
    assert set(
        StaffRole.objects.filter(agency=result.agency).values_list("role", flat=True)
    ) == set(Role.values)


@pytest.mark.django_db
def test_demo_charts_carry_behavioral_health_diagnoses() -> None:
    seed_demo(clients=30, seed=3)
    codes = set(Diagnosis.objects.values_list("code", flat=True))
    assert codes & {
        "F20.0",
        "F20.9",
        "F25.0",
        "F25.1",
        "F31.2",
        "F31.32",
        "F31.81",
        "F33.1",
        "F33.2",
    }


@pytest.mark.django_db
def test_seed_command_refuses_a_second_agency_and_if_empty_is_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo", "--clients", "3")
    assert "admin@demo.casework.example" in capsys.readouterr().out
    call_command("seed_demo", "--if-empty")
    assert "already loaded" in capsys.readouterr().out
    with pytest.raises(Exception, match="already exists"):
        call_command("seed_demo", "--clients", "3")
