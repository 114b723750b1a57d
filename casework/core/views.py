"""Home ("My day") and the person's own account page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casework.assessments.selectors import flag_notices_open
from casework.clients import selectors as client_selectors
from casework.core import selectors
from casework.core.models import User
from casework.core.twofactor import confirmed_device
from casework.plans.selectors import plans_due_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = user.agency.today() if user.agency else None
    context = {
        "today": today,
        "my_clients": client_selectors.my_caseload(user=user) if today else [],
        "my_credentials": selectors.credentials_expiring(user=user, today=today) if today else [],
        "agency_credentials": selectors.agency_credentials_expiring(user=user, today=today)
        if today
        else [],
        "break_glass_to_review": client_selectors.break_glass_for_supervisor(user=user),
        "flag_notices": flag_notices_open(user=user) if today else [],
        "plans_due": plans_due_for(user=user) if today else [],
    }
    return render(request, "core/home.html", context)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = user.agency.today() if user.agency else None
    context = {
        "two_factor_on": confirmed_device(user) is not None,
        "credentials": user.credentials.all() if today else [],
        "today": today,
    }
    return render(request, "core/account.html", context)
