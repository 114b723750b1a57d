"""Care coordination: the directory, releases and disclosures, documents, referrals,
communications, and how staff work together on a caseload."""

from casework.coordination.models.collaboration import (
    ChartComment,
    Coverage,
    Handoff,
    HandoffClient,
    Mention,
)
from casework.coordination.models.communications import Communication, Letter, LetterTemplate
from casework.coordination.models.consent import (
    PART2_CATEGORIES,
    Category,
    Consent,
    Disclosure,
    Purpose,
)
from casework.coordination.models.directory import (
    Organization,
    OrganizationService,
    Person,
    ServiceType,
)
from casework.coordination.models.documents import Document
from casework.coordination.models.referrals import (
    OPEN_REFERRAL_STATUSES,
    PriorAuthRequest,
    Referral,
    ReferralEvent,
)

__all__ = [
    "OPEN_REFERRAL_STATUSES",
    "PART2_CATEGORIES",
    "Category",
    "ChartComment",
    "Communication",
    "Consent",
    "Coverage",
    "Disclosure",
    "Document",
    "Handoff",
    "HandoffClient",
    "Letter",
    "LetterTemplate",
    "Mention",
    "Organization",
    "OrganizationService",
    "Person",
    "PriorAuthRequest",
    "Purpose",
    "Referral",
    "ReferralEvent",
    "ServiceType",
]
