"""Writes to the agency's directory: organisations (with the services they offer) and people.

Anyone who works with charts adds entries (`access.may_use_directory`); only admins and
supervisors correct, deactivate and import them (`access.may_curate_directory`). Entries are
never deleted: referrals, releases and disclosures point at them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction

from casework.coordination.errors import CoordinationError
from casework.coordination.models import Organization, OrganizationService, Person, ServiceType
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User

ORGANIZATION_CREATE = "directory_organization_create"
PERSON_CREATE = "directory_person_create"

# The longest each organisation field may be (the model's limits), for forms and the import.
ORGANIZATION_LIMITS: dict[str, int] = {
    "name": 200,
    "address": 300,
    "phone": 40,
    "fax": 40,
    "email": 254,
    "website": 200,
    "hours": 300,
    "eligibility": 2_000,
    "languages": 300,
}
PERSON_LIMITS: dict[str, int] = {"name": 200, "phone": 40, "email": 254}
ORGANIZATION_LABELS: dict[str, str] = {
    "name": "Name",
    "address": "Address",
    "phone": "Phone",
    "fax": "Fax",
    "email": "Email",
    "website": "Website",
    "hours": "Hours",
    "eligibility": "Eligibility",
    "languages": "Languages",
}


class DirectoryError(CoordinationError):
    """A directory change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OrganizationDetails:
    """What someone types about a provider or community resource."""

    name: str
    service_types: tuple[str, ...] = ()
    address: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""
    website: str = ""
    hours: str = ""
    eligibility: str = ""
    languages: str = ""
    accepting_referrals: bool = True
    is_covered_entity: bool = False


@dataclass(frozen=True)
class PersonDetails:
    name: str
    role: str
    organization: Organization | None = None
    phone: str = ""
    email: str = ""


def one_line(text: str) -> str:
    """Spaces and line breaks collapsed, so "Main St" and "Main  St" are the same address."""
    return " ".join(str(text).split())


def website_normalised(text: str) -> str:
    """A web address as people write it ("www.example.org") made into one a browser opens."""
    text = text.strip()
    if text and "://" not in text:
        text = "https://" + text
    return text


def organization_field_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with an organisation's fields, by field; empty when nothing is.

    Shared by the form, the service and the CSV import, so they never disagree.
    """
    errors: dict[str, str] = {}
    if not str(values.get("name", "")).strip():
        errors["name"] = "Give the organisation's name."
    for field, limit in ORGANIZATION_LIMITS.items():
        value = str(values.get(field, "") or "")
        if len(value) > limit:
            errors[field] = f"Keep it to {limit} characters (it has {len(value)})."
    email = str(values.get("email", "") or "")
    if email and "email" not in errors:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = f"“{email[:60]}” is not an email address."
    website = str(values.get("website", "") or "")
    if website and "website" not in errors:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors["website"] = f"“{website[:60]}” is not a web address."
    unknown = set(values.get("service_types", ())) - set(ServiceType.values)
    if unknown:
        errors["service_types"] = "Choose service types from the list."
    return errors


def _cleaned(details: OrganizationDetails) -> dict[str, Any]:
    values = asdict(details)
    for field in ORGANIZATION_LIMITS:
        values[field] = str(values[field]).strip()
    values["name"] = one_line(values["name"])
    values["address"] = one_line(values["address"])
    values["website"] = website_normalised(values["website"])
    values["service_types"] = tuple(dict.fromkeys(details.service_types))
    errors = organization_field_errors(values)
    if errors:
        field, message = next(iter(errors.items()))
        raise DirectoryError(message, field=field)
    return values


def _require_user(by: User) -> int:
    if not access.may_use_directory(by):
        raise PermissionDenied("Your role does not use the directory.")
    return access.agency_id_of(by)


def require_curator(by: User, agency_id: int) -> None:
    if agency_id != access.agency_id_of(by):
        raise PermissionDenied("That belongs to another agency.")
    if not access.may_curate_directory(by):
        raise PermissionDenied("Only supervisors and admins change directory entries.")


def _check_name_free(agency_id: int, name: str, address: str, *, exclude_pk: int | None) -> None:
    taken = (
        Organization.objects.filter(agency_id=agency_id, name__iexact=name, address__iexact=address)
        .exclude(pk=exclude_pk or 0)
        .exists()
    )
    if taken:
        where = f" at {address}" if address else ""
        raise DirectoryError(
            f"The directory already has {name}{where}. Open it instead of adding it again.",
            field="name",
        )


def services_set(
    organization: Organization, service_types: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Make the organisation's service rows match; returns (added, removed) codes."""
    wanted = set(service_types)
    have = set(organization.services.values_list("service_type", flat=True))
    added, removed = sorted(wanted - have), sorted(have - wanted)
    if removed:
        OrganizationService.objects.filter(
            organization=organization, service_type__in=removed
        ).delete()
    OrganizationService.objects.bulk_create(
        OrganizationService(
            agency_id=organization.agency_id, organization=organization, service_type=code
        )
        for code in added
    )
    return added, removed


ORGANIZATION_FIELDS = (
    "name",
    "address",
    "phone",
    "fax",
    "email",
    "website",
    "hours",
    "eligibility",
    "languages",
    "accepting_referrals",
    "is_covered_entity",
)


def organization_create(
    *, by: User, details: OrganizationDetails, submission_key: str = ""
) -> Organization:
    """Add a provider or resource to the agency's directory (once, however often it is sent)."""
    agency_id = _require_user(by)
    values = _cleaned(details)
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=ORGANIZATION_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Organization.objects.get(pk=submission.earlier_object_id, agency_id=agency_id)
        _check_name_free(agency_id, values["name"], values["address"], exclude_pk=None)
        organization = Organization.objects.create(
            agency_id=agency_id, **{field: values[field] for field in ORGANIZATION_FIELDS}
        )
        services_set(organization, values["service_types"])
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=organization,
            detail={"services": sorted(values["service_types"])},
        )
        submission_complete(submission, organization.pk)
    return organization


def organization_update(
    *,
    organization: Organization,
    by: User,
    details: OrganizationDetails,
    seen_updated_at: datetime.datetime | None = None,
) -> Organization:
    """Correct an entry. `seen_updated_at` is when the entry had last changed as the editor
    opened it: a change made since by someone else is not silently overwritten."""
    require_curator(by, organization.agency_id)
    values = _cleaned(details)
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if seen_updated_at is not None and locked.updated_at != seen_updated_at:
            raise DirectoryError(
                "Someone changed this entry after you opened it. Your changes are below: "
                "check them against the entry and save again."
            )
        _check_name_free(locked.agency_id, values["name"], values["address"], exclude_pk=locked.pk)
        changed = [f for f in ORGANIZATION_FIELDS if getattr(locked, f) != values[f]]
        for field in changed:
            setattr(locked, field, values[field])
        added, removed = services_set(locked, values["service_types"])
        if changed or added or removed:
            locked.save(update_fields=[*changed, "updated_at"])
            audit_record(
                actor=by,
                action=Action.UPDATE,
                obj=locked,
                detail={"fields": changed, "services_added": added, "services_removed": removed},
            )
    return locked


def organization_set_active(*, organization: Organization, by: User, active: bool) -> Organization:
    """Take an entry out of the directory's searches and pickers (or bring it back)."""
    require_curator(by, organization.agency_id)
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if locked.is_active != active:
            locked.is_active = active
            locked.save(update_fields=["is_active", "updated_at"])
            audit_record(actor=by, action=Action.UPDATE, obj=locked, detail={"is_active": active})
    return locked


def _cleaned_person(details: PersonDetails, agency_id: int) -> dict[str, Any]:
    name = one_line(details.name)
    if not name:
        raise DirectoryError("Give the person's name.", field="name")
    if details.role not in Person.Role.values:
        raise DirectoryError("Choose what they do.", field="role")
    values: dict[str, Any] = {
        "name": name,
        "role": details.role,
        "organization": details.organization,
        "phone": details.phone.strip(),
        "email": details.email.strip(),
    }
    for field, limit in PERSON_LIMITS.items():
        if len(values[field]) > limit:
            raise DirectoryError(f"Keep it to {limit} characters.", field=field)
    if values["email"]:
        try:
            EmailValidator()(values["email"])
        except ValidationError:
            raise DirectoryError("That is not an email address.", field="email") from None
    if details.organization is not None and details.organization.agency_id != agency_id:
        raise PermissionDenied("That organisation belongs to another agency.")
    return values


def person_create(*, by: User, details: PersonDetails, submission_key: str = "") -> Person:
    """Add someone outside the agency that staff talk with about clients."""
    agency_id = _require_user(by)
    values = _cleaned_person(details, agency_id)
    organization = values["organization"]
    if organization is not None and not organization.is_active:
        raise DirectoryError(
            f"{organization.name} is no longer in the directory.", field="organization"
        )
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=PERSON_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Person.objects.get(pk=submission.earlier_object_id, agency_id=agency_id)
        person = Person.objects.create(agency_id=agency_id, **values)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=person,
            detail={"organization": organization.pk if organization else None},
        )
        submission_complete(submission, person.pk)
    return person


def person_update(*, person: Person, by: User, details: PersonDetails) -> Person:
    require_curator(by, person.agency_id)
    values = _cleaned_person(details, person.agency_id)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        changed = [field for field, value in values.items() if getattr(locked, field) != value]
        for field in changed:
            setattr(locked, field, values[field])
        if changed:
            locked.save(update_fields=changed)
            audit_record(actor=by, action=Action.UPDATE, obj=locked, detail={"fields": changed})
    return locked


def person_set_active(*, person: Person, by: User, active: bool) -> Person:
    require_curator(by, person.agency_id)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.is_active != active:
            locked.is_active = active
            locked.save(update_fields=["is_active"])
            audit_record(actor=by, action=Action.UPDATE, obj=locked, detail={"is_active": active})
    return locked
