"""Every write to agencies, staff, roles, teams and credentials: one transaction, audited.

Split by domain; import from here (`from casework.core import services`).
"""

from casework.core.services.agency import (
    AGENCY_SETTINGS_FIELDS,
    AgencySetupError,
    agency_update,
    program_create,
    program_set_active,
    program_update,
    team_create,
    team_set_active,
    team_update,
)
from casework.core.services.sign_in import sign_out_everywhere, two_factor_enrol, two_factor_reset
from casework.core.services.staff import (
    EmailTaken,
    Invitation,
    StaffError,
    credential_attest,
    credential_save,
    invitation_link,
    staff_create,
    staff_deactivate,
    staff_invitation_send,
    staff_invite,
    staff_reactivate,
    staff_unlock_sign_in,
    staff_update,
    working_hours_set,
)

__all__ = [
    "AGENCY_SETTINGS_FIELDS",
    "AgencySetupError",
    "EmailTaken",
    "Invitation",
    "StaffError",
    "agency_update",
    "credential_attest",
    "credential_save",
    "invitation_link",
    "program_create",
    "program_set_active",
    "program_update",
    "sign_out_everywhere",
    "staff_create",
    "staff_deactivate",
    "staff_invitation_send",
    "staff_invite",
    "staff_reactivate",
    "staff_unlock_sign_in",
    "staff_update",
    "team_create",
    "team_set_active",
    "team_update",
    "two_factor_enrol",
    "two_factor_reset",
    "working_hours_set",
]
