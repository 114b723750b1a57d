"""Who may use which API resource. The rows they see are decided by casework.core.access."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from casework.core import access


class ClientRegistryAccess(BasePermission):
    """Clients: chart roles read (auditors get 403); only case managers, supervisors and admins write."""

    message = "Your role does not include client records."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not access.may_use_client_registry(request.user):
            self.message = "Your role does not include client records."
            return False
        if request.method not in SAFE_METHODS and not access.may_edit_chart(request.user):  # type: ignore[arg-type]
            self.message = "Your role can read charts but not change them."
            return False
        return True


class AgencyMember(BasePermission):
    """Staff and programs: anyone who works for an agency may read their own agency's lists."""

    message = "You are not a member of an agency."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "agency_id", None))


class ChartRecordAccess(BasePermission):
    """Assessments and service plans, as their pages: people who may read narratives read them
    (auditors, and billing unless the agency allows it, get 403); people who write notes write."""

    records = "assessments and service plans"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not access.may_read_narratives(user):  # type: ignore[arg-type]
            self.message = f"Your role does not include {self.records}."
            return False
        if request.method not in SAFE_METHODS and not access.may_write_notes(user):
            self.message = f"Your role can read {self.records} but not change them."
            return False
        return True


class AssessmentAccess(ChartRecordAccess):
    records = "assessments"


class PlanAccess(ChartRecordAccess):
    records = "service plans"
