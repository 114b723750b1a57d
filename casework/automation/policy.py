"""Who may do what with automation; built on `casework.core.access`, which stays the one place
that decides which clients a person sees."""

from __future__ import annotations

from typing import Any

from casework.core import access
from casework.core.models import Role


def may_configure_automation(user: Any) -> bool:
    """Agency admins and supervisors set up the agency's rules and read what they did."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.agency_id
        and user.has_role(Role.AGENCY_ADMIN, Role.SUPERVISOR)
    )


def may_read_client_automation(user: Any) -> bool:
    """A client's reminder settings and automation log are read by those who open charts."""
    return access.may_use_client_registry(user)


def may_switch_for_client(user: Any) -> bool:
    """Those who write in the chart turn reminders and rules on or off for their clients."""
    return access.may_edit_chart(user)
