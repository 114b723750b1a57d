"""FHIR R4 reads for care coordination, built with the fhir.resources R4B models (so each one is
validated as it is built): the directory's organisations as Organization, releases as Consent,
referrals as ServiceRequest, the communications log as Communication.

Consent, ServiceRequest and Communication are records of a client's chart: searched by
`?patient=`, read by id only when the caller may see the client, audited as chart reads and,
for an outside organisation's system, checked against the client's releases (casework.api.outside).
Organization holds no client data.

Ids: the record's id. Times: UTC.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from fhir.resources.R4B.communication import Communication as FhirCommunication
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.servicerequest import ServiceRequest
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api.outside import addressed_to_the_reader, disclose_to_outside
from casework.api.views_coordination import DirectoryAccess
from casework.api.views_fhir import PATIENT, FhirView, _fhir_response, _id_parameter
from casework.clients.services import audit_chart_read
from casework.coordination.models import (
    Category,
    Communication,
    Consent,
    Organization,
    OrganizationService,
    Purpose,
    Referral,
)
from casework.core import access
from casework.core.models import User

CATEGORY_SYSTEM = "https://casework.example/fhir/CodeSystem/disclosure-category"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
PART2_POLICY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
HIPAA_POLICY = "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164"

# Purpose -> v3 ActReason (HL7 purpose of use)
PURPOSE_OF_USE = {
    Purpose.TREATMENT: ("TREAT", "treatment"),
    Purpose.PAYMENT: ("HPAYMT", "healthcare payment"),
    Purpose.OPERATIONS: ("HOPERAT", "healthcare operations"),
    Purpose.TPO: ("TREAT", "treatment"),
    Purpose.HOUSING: ("HSYSADMIN", "health system administration"),
    Purpose.BENEFITS: ("COVERAGE", "coverage under policy or program"),
    Purpose.LEGAL: ("HLEGAL", "legal"),
    Purpose.CLIENT_REQUEST: ("PATRQT", "patient requested"),
    Purpose.OTHER: ("HOPERAT", "healthcare operations"),
}
REFERRAL_STATUS = {
    Referral.Status.DRAFT: "draft",
    Referral.Status.SENT: "active",
    Referral.Status.ACKNOWLEDGED: "active",
    Referral.Status.SCHEDULED: "active",
    Referral.Status.COMPLETED: "completed",
    Referral.Status.DECLINED: "revoked",
    Referral.Status.NO_RESPONSE: "revoked",
    Referral.Status.CANCELLED: "revoked",
}
REFERRAL_PRIORITY = {
    Referral.Urgency.ROUTINE: "routine",
    Referral.Urgency.SOON: "urgent",
    Referral.Urgency.URGENT: "asap",
}
COMMUNICATION_MEDIUM = {
    Communication.Channel.CALL: ("PHONE", "telephone"),
    Communication.Channel.VOICEMAIL: ("VMAILV", "voice mail"),
    Communication.Channel.MESSAGE: ("SMSWRIT", "SMS"),
    Communication.Channel.EMAIL: ("EMAILWRIT", "email"),
    Communication.Channel.LETTER: ("MAILWRIT", "mail"),
    Communication.Channel.FAX: ("FAXWRIT", "fax"),
    Communication.Channel.MEETING: ("FACE", "face-to-face"),
}


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _recipient_reference(row: Any) -> dict[str, str]:
    if row.organization_id is not None and row.person_id is None:
        return {"reference": f"Organization/{row.organization_id}", "display": row.recipient_label}
    return {"display": row.recipient_label}


# --- resources ----------------------------------------------------------------------------------


def organization(org: Organization) -> FhirOrganization:
    """A directory entry; its service types are the type's text."""
    telecom = [
        {"system": system, "value": value, "use": "work"}
        for system, value in (("phone", org.phone), ("fax", org.fax), ("email", org.email))
        if value
    ]
    if org.website:
        telecom.append({"system": "url", "value": org.website})
    data: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(org.pk),
        "active": org.is_active,
        "name": org.name,
        "type": [{"text": service.get_service_type_display()} for service in org.services.all()],
    }
    if telecom:
        data["telecom"] = telecom
    if org.address:
        data["address"] = [{"text": org.address, "use": "work"}]
    return FhirOrganization.model_validate(data)


def consent(release: Consent, *, now: datetime.datetime, today: datetime.date) -> FhirConsent:
    """A release: permit the named recipient these categories for this purpose and period."""
    labels = dict(Category.choices)
    reason_code, reason_display = PURPOSE_OF_USE[Purpose(release.purpose)]
    period: dict[str, str] = {"start": release.starts_on.isoformat()}
    if release.expires_on is not None:
        period["end"] = release.expires_on.isoformat()
    if release.ended_on is not None:
        period["end"] = min(period.get("end", "9999-12-31"), release.ended_on.isoformat())
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "actor": [
            {
                "role": {
                    "coding": [
                        {"system": ACT_CODE, "code": "IRCP", "display": "information recipient"}
                    ]
                },
                "reference": _recipient_reference(release),
            }
        ],
        "purpose": [{"system": ACT_REASON, "code": reason_code, "display": reason_display}],
        "code": [
            {
                "coding": [{"system": CATEGORY_SYSTEM, "code": code}],
                "text": str(labels.get(code, code)),
            }
            for code in release.categories
        ],
    }
    if release.revoked_at is not None:
        status = "inactive"
    else:
        status = "active" if release.is_active_at(now, today) else "inactive"
    return FhirConsent.model_validate(
        {
            "resourceType": "Consent",
            "id": str(release.pk),
            "status": status,
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            "category": [
                {
                    "coding": [{"system": "http://loinc.org", "code": "59284-0"}],
                    "text": "42 CFR Part 2 consent"
                    if release.is_part2
                    else "Release of information",
                }
            ],
            "patient": {"reference": f"Patient/{release.client_id}"},
            "dateTime": _utc(release.created_at),
            "policy": [{"uri": PART2_POLICY if release.is_part2 else HIPAA_POLICY}],
            "provision": provision,
        }
    )


def service_request(referral: Referral) -> ServiceRequest:
    """A referral: to the organisation (performer), for the reason given, where it stands."""
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "status": REFERRAL_STATUS[Referral.Status(referral.status)],
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "3457005",
                        "display": "Patient referral",
                    }
                ]
            }
        ],
        "priority": REFERRAL_PRIORITY[Referral.Urgency(referral.urgency)],
        "code": {"text": f"Referral to {referral.organization.name}"},
        "subject": {"reference": f"Patient/{referral.client_id}"},
        "authoredOn": _utc(referral.sent_at or referral.created_at),
        "requester": {"reference": f"Practitioner/{referral.created_by_id}"},
        "performer": [
            {
                "reference": f"Organization/{referral.organization_id}",
                "display": referral.organization.name,
            }
        ],
        "reasonCode": [{"text": referral.reason}],
    }
    if referral.scheduled_for is not None:
        data["occurrenceDateTime"] = _utc(referral.scheduled_for)
    if referral.outcome:
        data["note"] = [{"text": referral.outcome}]
    return ServiceRequest.model_validate(data)


def communication(entry: Communication) -> FhirCommunication:
    """A logged contact about the client: who with, how, when, and what was discussed."""
    code, display = COMMUNICATION_MEDIUM[Communication.Channel(entry.channel)]
    other = _recipient_reference(entry) if entry.recipient_label else {"display": entry.with_name}
    staff = {"reference": f"Practitioner/{entry.staff_id}"}
    outgoing = entry.direction == Communication.Direction.OUTGOING
    data: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(entry.pk),
        "status": "completed",
        "subject": {"reference": f"Patient/{entry.client_id}"},
        "about": [{"reference": f"Patient/{entry.client_id}"}],
        "medium": [{"coding": [{"system": PARTICIPATION_MODE, "code": code, "display": display}]}],
        "sent" if outgoing else "received": _utc(entry.occurred_at),
        "sender": staff if outgoing else other,
        "recipient": [other if outgoing else staff],
        "payload": [{"contentString": entry.summary}],
    }
    if entry.outcome:
        data["note"] = [{"text": entry.outcome}]
    return FhirCommunication.model_validate(data)


# --- views --------------------------------------------------------------------------------------


def _is_id(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


@dataclass(frozen=True)
class RecordKind:
    """One kind of a client's coordination records as a FHIR resource."""

    resource: str
    description: str
    categories: tuple[str, ...]
    rows: Callable[[], QuerySet[Any]]
    build: Callable[[Any, User], Any]


def _consent_of(row: Consent, user: User) -> FhirConsent:
    agency = user.agency
    assert agency is not None  # FhirChartAccess let only staff of an agency through
    return consent(row, now=timezone.now(), today=agency.today())


CONSENTS = RecordKind(
    resource="Consent",
    description="releases",
    categories=(Category.DEMOGRAPHICS,),
    rows=lambda: addressed_to_the_reader(
        Consent.objects.select_related("organization", "person")
    ).order_by("-starts_on", "-id"),
    build=_consent_of,
)
REFERRALS = RecordKind(
    resource="ServiceRequest",
    description="referrals",
    categories=(Category.DEMOGRAPHICS, Category.NOTES),
    rows=lambda: Referral.objects.select_related("organization").order_by("-created_at", "-id"),
    build=lambda row, user: service_request(row),
)
COMMUNICATIONS = RecordKind(
    resource="Communication",
    description="communications",
    categories=(Category.NOTES,),
    rows=lambda: Communication.objects.select_related("organization", "person").order_by(
        "-occurred_at", "-id"
    ),
    build=lambda row, user: communication(row),
)


class ClientRecordFhirView(FhirView):
    """Searches by ?patient= and reads by id of one kind of a client's coordination records."""

    kind: RecordKind

    @property
    def disclosure_categories(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.kind.categories

    def _reveal(self, client: Any, what: str) -> None:
        disclose_to_outside(
            self.request, client_ids=[client.pk], categories=self.kind.categories, section=what
        )
        audit_chart_read(user=self.user, client=client, what=what)

    def search(self) -> Response:
        client = self.patient()
        rows = list(self.kind.rows().filter(client=client))
        self._reveal(client, f"fhir {self.kind.resource}")
        return self.searchset([self.kind.build(row, self.user) for row in rows])

    def read(self, pk: str) -> Response:
        visible = self.kind.rows().filter(client__in=access.visible_clients(self.user))
        row = visible.select_related("client").filter(pk=int(pk)).first() if _is_id(pk) else None
        if row is None:
            raise exceptions.NotFound(f"No such {self.kind.resource}.")
        self._reveal(row.client, f"fhir {self.kind.resource} {row.pk}")
        return Response(self.kind.build(row, self.user))


def _search(resource: str, description: str) -> Any:
    return extend_schema(
        operation_id=f"fhir_{resource.lower()}_search",
        summary=f"FHIR: a client's {description} as {resource}s",
        description=f"Every one of the client's {description}. Recorded in the audit log as a "
        "read of the client's chart.",
        parameters=[PATIENT],
        responses=_fhir_response(f"A searchset Bundle of {resource}s."),
    )


def _read(resource: str, description: str) -> Any:
    return extend_schema(
        operation_id=f"fhir_{resource.lower()}_read",
        summary=f"FHIR: one of a client's {description} as a {resource}",
        description="Not found unless you may see the client. Recorded in the audit log.",
        parameters=[_id_parameter(f"The id of the {description[:-1]}.")],
        responses=_fhir_response(f"A {resource}."),
    )


@extend_schema(tags=["fhir"])
class ConsentSearch(ClientRecordFhirView):
    kind = CONSENTS

    @_search("Consent", "releases")
    def get(self, request: Request) -> Response:
        return self.search()


@extend_schema(tags=["fhir"])
class ConsentRead(ClientRecordFhirView):
    kind = CONSENTS

    @_read("Consent", "releases")
    def get(self, request: Request, pk: str) -> Response:
        return self.read(pk)


@extend_schema(tags=["fhir"])
class ServiceRequestSearch(ClientRecordFhirView):
    kind = REFERRALS

    @_search("ServiceRequest", "referrals")
    def get(self, request: Request) -> Response:
        return self.search()


@extend_schema(tags=["fhir"])
class ServiceRequestRead(ClientRecordFhirView):
    kind = REFERRALS

    @_read("ServiceRequest", "referrals")
    def get(self, request: Request, pk: str) -> Response:
        return self.read(pk)


@extend_schema(tags=["fhir"])
class CommunicationSearch(ClientRecordFhirView):
    kind = COMMUNICATIONS

    @_search("Communication", "communications")
    def get(self, request: Request) -> Response:
        return self.search()


@extend_schema(tags=["fhir"])
class CommunicationRead(ClientRecordFhirView):
    kind = COMMUNICATIONS

    @_read("Communication", "communications")
    def get(self, request: Request, pk: str) -> Response:
        return self.read(pk)


def _organizations(request_user: Any) -> QuerySet[Organization]:
    return Organization.objects.filter(
        agency_id=access.agency_id_of(request_user)
    ).prefetch_related(
        Prefetch("services", queryset=OrganizationService.objects.order_by("service_type"))
    )


NAME = OpenApiParameter(
    "name",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    description="Part of the name.",
)


@extend_schema(tags=["fhir"])
class OrganizationSearch(FhirView):
    permission_classes = [IsAuthenticated, DirectoryAccess]
    outside_may_read = True  # the directory holds no client data

    @extend_schema(
        operation_id="fhir_organization_search",
        summary="FHIR: the directory's organisations as Organizations",
        description="Active organisations of your agency's directory, by name.",
        parameters=[NAME],
        responses=_fhir_response("A searchset Bundle of Organizations."),
    )
    def get(self, request: Request) -> Response:
        name = request.query_params.get("name", "").strip()[:100]
        found = _organizations(self.user).filter(is_active=True)
        if name:
            found = found.filter(name__icontains=name)
        return self.searchset([organization(org) for org in found.order_by("name", "id")[:200]])


@extend_schema(tags=["fhir"])
class OrganizationRead(FhirView):
    permission_classes = [IsAuthenticated, DirectoryAccess]
    outside_may_read = True

    @extend_schema(
        operation_id="fhir_organization_read",
        summary="FHIR: a directory organisation as an Organization",
        parameters=[_id_parameter("The organisation's id.")],
        responses=_fhir_response("An Organization."),
    )
    def get(self, request: Request, pk: str) -> Response:
        found = _organizations(self.user).filter(pk=int(pk)).first() if _is_id(pk) else None
        if found is None:
            raise exceptions.NotFound("No such Organization.")
        return Response(organization(found))
