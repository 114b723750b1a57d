"""Agency-admin screens for staff: list, detail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from casework.core import access
from casework.core.models import User


def _admin(request: HttpRequest) -> User:
    if not access.may_manage_staff(request.user):
        raise PermissionDenied("Only agency admins manage staff.")
    return request.user  # type: ignore[return-value]


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    staff = access.staff_in_agency(user).prefetch_related("role_rows", "teams")
    return render(request, "core/staff_list.html", {"staff": staff})


@login_required
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = get_object_or_404(access.staff_in_agency(user), pk=user_id)
    return render(
        request,
        "core/staff_detail.html",
        {"member": member, "credentials": member.credentials.all()},
    )
