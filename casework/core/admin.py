"""Django admin for platform operators: read-only, because every change must go through the
audited services (agency admins use Casework's own staff screens)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casework.core.models import Agency, AuditEvent, Credential, Program, Team, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "npi",
        "time_zone",
        "idle_timeout_minutes",
        "require_two_factor_for_all",
    )
    search_fields = ("name", "npi")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("email", "first_name", "last_name", "agency", "is_active")
    list_filter = ("agency", "is_active")
    search_fields = ("email", "first_name", "last_name")
    exclude = ("password", "user_permissions", "groups")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "client_id",
        "agency_id",
    )
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "request_id")


admin.site.register(Program, ReadOnlyAdmin)
admin.site.register(Team, ReadOnlyAdmin)
admin.site.register(Credential, ReadOnlyAdmin)
