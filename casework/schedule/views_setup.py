"""Schedule set-up: the agency's cars, rooms and holidays (admins) and each person's phone feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from casework.core.views_staff import admin_agency, admin_user
from casework.schedule import services, services_setup
from casework.schedule.feeds import feed_calendar
from casework.schedule.forms import HolidayForm, ResourceForm
from casework.schedule.models import CalendarFeed, Holiday, Resource
from casework.schedule.views_calendar import scheduler

# ---------------------------------------------------------------------------- cars and rooms


@login_required
def resource_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    agency = admin_agency(user)
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.resource_save(
                by=user, resource=None, is_active=True, **form.cleaned_data
            )
        except services.ScheduleError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"{form.cleaned_data['name']} added.")
            return redirect("schedule_resources")
    resources = Resource.objects.filter(agency=agency).order_by("-is_active", "kind", "name")
    return render(
        request,
        "schedule/resources.html",
        {"form": form, "resources": resources, "tab": "agency"},
        status=400 if form.errors else 200,
    )


@login_required
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = admin_user(request)
    agency = admin_agency(user)
    resource = get_object_or_404(Resource, agency=agency, pk=resource_id)
    form = ResourceForm(
        request.POST or None, initial={"kind": resource.kind, "name": resource.name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.resource_save(
                by=user,
                resource=resource,
                is_active=request.POST.get("is_active") == "on",
                **form.cleaned_data,
            )
        except services.ScheduleError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"{form.cleaned_data['name']} saved.")
            return redirect("schedule_resources")
    return render(
        request,
        "schedule/resource_edit.html",
        {"form": form, "resource": resource, "tab": "agency"},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------- holidays


@login_required
def holiday_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    agency = admin_agency(user)
    form = HolidayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_setup.holiday_save(by=user, **form.cleaned_data)
        except services.ScheduleError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"{form.cleaned_data['name']} added.")
            return redirect("schedule_holidays")
    today = agency.today()
    holidays = Holiday.objects.filter(agency=agency, day__gte=today.replace(month=1, day=1))
    return render(
        request,
        "schedule/holidays.html",
        {"form": form, "holidays": holidays, "today": today, "tab": "agency"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def holiday_delete(request: HttpRequest, holiday_id: int) -> HttpResponse:
    user = admin_user(request)
    holiday = get_object_or_404(Holiday, agency=admin_agency(user), pk=holiday_id)
    try:
        services_setup.holiday_delete(holiday=holiday, by=user)
    except services.ScheduleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{holiday.name} removed.")
    return redirect("schedule_holidays")


# ---------------------------------------------------------------------------- calendar feed


@login_required
@never_cache
def feed_page(request: HttpRequest) -> HttpResponse:
    """Make, show once, or turn off the private address of my appointments for my phone."""
    user = scheduler(request)
    assert user.agency is not None
    address = ""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    try:
        if action == "make":
            token = services_setup.feed_create(user=user, by=user)
            path = reverse("schedule_feed_calendar", args=[token])
            address = request.build_absolute_uri(path)
        elif action == "revoke":
            services_setup.feed_revoke(user=user, by=user)
            messages.success(request, "Feed turned off: the old address no longer works.")
            return redirect("schedule_feed")
    except services.ScheduleError as error:
        messages.error(request, str(error))
    live = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()
    return render(
        request,
        "schedule/feed.html",
        {
            "enabled": user.agency.calendar_feeds_enabled,
            "live": live,
            "address": address,
            "webcal": "webcal://" + address.split("://", 1)[1] if address else "",
        },
    )


@require_GET
@never_cache
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a phone subscribes to: no session, no audit (initials and place types only)."""
    body = feed_calendar(token=token)
    if body is None:
        raise Http404("No such calendar.")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="casework.ics"'
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
