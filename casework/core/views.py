"""The person's own account page (My day lives in casework/worklist)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casework.core import services
from casework.core.models import User
from casework.core.twofactor import confirmed_device

DAY_CHOICES = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
]


class WorkingHoursForm(forms.Form):
    days = forms.MultipleChoiceField(
        label="Working days", choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    starts = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(
        label="Until",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="The same time as 'From' means all day; an earlier one, a night shift.",
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = user.agency.today() if user.agency else None
    hours = WorkingHoursForm(
        request.POST or None,
        initial={
            "days": user.work_days.split(","),
            "starts": user.work_starts,
            "ends": user.work_ends,
        },
    )
    if request.method == "POST" and hours.is_valid():
        try:
            services.working_hours_set(
                user=user,
                by=user,
                days=hours.cleaned_data["days"],
                starts=hours.cleaned_data["starts"],
                ends=hours.cleaned_data["ends"],
            )
        except services.StaffError as error:
            hours.add_error(None, str(error))
        else:
            messages.success(request, "Saved your working hours.")
            return redirect("account")
    context = {
        "two_factor_on": confirmed_device(user) is not None,
        "credentials": user.credentials.all() if today else [],
        "today": today,
        "hours_form": hours,
    }
    return render(request, "core/account.html", context, status=400 if hours.errors else 200)
