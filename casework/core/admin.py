"""Django admin for platform operators. Agency admins use Casework's own staff screens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from casework.core.models import (
    Agency,
    AuditEvent,
    Credential,
    Program,
    StaffRole,
    Team,
    TeamMembership,
    User,
)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "npi",
        "time_zone",
        "idle_timeout_minutes",
        "require_two_factor_for_all",
    )
    search_fields = ("name", "npi")


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "agency", "is_active")
    list_filter = ("agency", "is_active")
    search_fields = ("email", "first_name", "last_name")
    exclude = ("password", "user_permissions", "groups")
    readonly_fields = ("last_login", "date_joined", "deactivated_at", "session_generation")
    inlines = (StaffRoleInline, TeamMembershipInline)


admin.site.register(Program)
admin.site.register(Team)
admin.site.register(Credential)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the database refuses changes anyway."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
