"""Agency-admin screens for the agency set-up: programs, teams and agency settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from casework.core import access, services
from casework.core.forms_staff import (
    AgencySettingsForm,
    ProgramForm,
    TeamForm,
)
from casework.core.models import Agency, Program, Team, TeamMembership, User
from casework.core.views_staff import admin_agency, admin_user

# ---------------------------------------------------------------------------- programs


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    programs = (
        access.programs_in_agency(user)
        .annotate(team_count=Count("teams"))
        .order_by("-is_active", "name")
    )
    return render(request, "core/program_list.html", {"programs": programs, "tab": "programs"})


def _program_or_404(user: User, program_id: int) -> Program:
    program: Program = get_object_or_404(access.programs_in_agency(user), pk=program_id)
    return program


@login_required
def program_new(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(
                agency=admin_agency(user),
                by=user,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                description=form.cleaned_data["description"],
                is_part2=form.cleaned_data["is_part2"],
            )
        except services.AgencySetupError as error:
            form.add_error(error.field, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Added the program {program.name}.")
            return redirect("program_list")
    return render(request, "core/program_form.html", {"form": form, "tab": "programs"})


@login_required
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    user = admin_user(request)
    program = _program_or_404(user, program_id)
    form = ProgramForm(request.POST or None, instance=Program.objects.get(pk=program.pk))
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_update(
                program=program,
                by=user,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                description=form.cleaned_data["description"],
                is_part2=form.cleaned_data["is_part2"],
            )
        except services.AgencySetupError as error:
            form.add_error(error.field, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved the program {program.name}.")
            return redirect("program_list")
    return render(
        request, "core/program_form.html", {"form": form, "program": program, "tab": "programs"}
    )


@login_required
@require_POST
def program_set_active(request: HttpRequest, program_id: int) -> HttpResponse:
    user = admin_user(request)
    program = _program_or_404(user, program_id)
    active = request.POST.get("active") == "1"
    services.program_set_active(program=program, by=user, active=active)
    messages.success(
        request, f"{program.name} is {'open again' if active else 'closed to new work'}."
    )
    return redirect("program_list")


# ---------------------------------------------------------------------------- teams


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    teams = (
        access.teams_in_agency(user)
        .select_related("program")
        .annotate(
            member_count=Count(
                "memberships", filter=Q(memberships__kind=TeamMembership.Kind.MEMBER)
            ),
            supervisor_count=Count(
                "memberships", filter=Q(memberships__kind=TeamMembership.Kind.SUPERVISOR)
            ),
        )
        .order_by("-is_active", "name")
    )
    return render(request, "core/team_list.html", {"teams": teams, "tab": "teams"})


def _team_or_404(user: User, team_id: int) -> Team:
    team: Team = get_object_or_404(
        access.teams_in_agency(user).select_related("program"), pk=team_id
    )
    return team


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    user = admin_user(request)
    team = _team_or_404(user, team_id)
    memberships = (
        TeamMembership.objects.filter(team=team)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    return render(
        request,
        "core/team_detail.html",
        {
            "team": team,
            "supervisors": [
                m.user for m in memberships if m.kind == TeamMembership.Kind.SUPERVISOR
            ],
            "members": [m.user for m in memberships if m.kind == TeamMembership.Kind.MEMBER],
            "tab": "teams",
        },
    )


def _team_programs(user: User, team: Team | None) -> QuerySet[Program]:
    keep = Q(pk=team.program_id) if team is not None and team.program_id else Q(pk__in=[])
    return access.programs_in_agency(user).filter(Q(is_active=True) | keep)


@login_required
def team_new(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    form = TeamForm(request.POST or None, programs=_team_programs(user, None))
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                agency=admin_agency(user),
                by=user,
                name=form.cleaned_data["name"],
                program=form.cleaned_data["program"],
            )
        except services.AgencySetupError as error:
            form.add_error(error.field, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Added the team {team.name}. Add people to it from each person's staff page.",
            )
            return redirect("team_detail", team.pk)
    return render(request, "core/team_form.html", {"form": form, "tab": "teams"})


@login_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    user = admin_user(request)
    team = _team_or_404(user, team_id)
    form = TeamForm(
        request.POST or None,
        instance=Team.objects.get(pk=team.pk),
        programs=_team_programs(user, team),
    )
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_update(
                team=team,
                by=user,
                name=form.cleaned_data["name"],
                program=form.cleaned_data["program"],
            )
        except services.AgencySetupError as error:
            form.add_error(error.field, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved the team {team.name}.")
            return redirect("team_detail", team.pk)
    return render(request, "core/team_form.html", {"form": form, "team": team, "tab": "teams"})


@login_required
@require_POST
def team_set_active(request: HttpRequest, team_id: int) -> HttpResponse:
    user = admin_user(request)
    team = _team_or_404(user, team_id)
    active = request.POST.get("active") == "1"
    services.team_set_active(team=team, by=user, active=active)
    messages.success(
        request,
        f"{team.name} is active again."
        if active
        else f"{team.name} is deactivated; its members no longer share clients through it.",
    )
    return redirect("team_detail", team.pk)


# ---------------------------------------------------------------------------- agency settings


@login_required
def agency_settings(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    # A separate copy: a half-valid form must not change the agency this request runs under.
    agency = Agency.objects.get(pk=access.agency_id_of(user))
    form = AgencySettingsForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update(
                agency=agency,
                by=user,
                **{name: form.cleaned_data[name] for name in services.AGENCY_SETTINGS_FIELDS},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Saved the agency settings.")
            return redirect("agency_settings")
    return render(request, "core/agency_settings.html", {"form": form, "tab": "agency"})
