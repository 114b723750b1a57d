"""FHIR R4 Appointment: a client's appointments, read-only, built with the fhir.resources R4B
model (so each one is validated as it is built) and served like the other FHIR reads.

An Appointment is a client's record here: it is found through the clients the caller may see
(`?patient=` or by id), names as Patient participants only those clients (a group's other
members stay unnamed) and the staff member as the Practitioner, and each client named is
recorded in the audit log as a chart read. What the appointment was for, where it was and why
it was cancelled can say more about a client than a calendar should, so the resource carries
the kind of appointment and nothing more: no purpose, place or outcome reason.

Id: the appointment's id. Times: UTC.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api.outside import disclose_to_outside
from casework.api.views_fhir import PATIENT, FhirView, _fhir_response, _id_parameter
from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination.models import Category
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.models import User
from casework.schedule.models import Appointment, AppointmentClient

# Appointment.status -> FHIR Appointment.status
APPOINTMENT_STATUS = {
    Appointment.Status.SCHEDULED: "booked",
    Appointment.Status.ATTENDED: "fulfilled",
    Appointment.Status.NO_SHOW: "noshow",
    Appointment.Status.CANCELLED: "cancelled",
}
CANCELLED_BY = {
    Appointment.CancelledBy.CLIENT: "Cancelled by the client",
    Appointment.CancelledBy.STAFF: "Cancelled by the agency",
}


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def appointment(appointment: Appointment, *, client_ids: Collection[int]) -> FhirAppointment:
    """The appointment as a FHIR Appointment naming these clients (those the reader may see).

    `appointment` comes with its staff member.
    """
    kind = appointment.get_kind_display()
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": f"Patient/{client_id}"}, "status": "accepted"}
        for client_id in sorted(client_ids)
    ]
    participants.append(
        {
            "actor": {
                "reference": f"Practitioner/{appointment.staff_id}",
                "display": appointment.staff.full_name,
            },
            "status": "accepted",
        }
    )
    data: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "meta": {"lastUpdated": _utc(appointment.updated_at)},
        "status": APPOINTMENT_STATUS[Appointment.Status(appointment.status)],
        "appointmentType": {"text": kind},
        "serviceType": [{"text": kind}],
        "description": kind,
        "start": _utc(appointment.start_at),
        "end": _utc(appointment.end_at),
        "minutesDuration": max(appointment.duration_minutes, 1),
        "created": _utc(appointment.created_at),
        "participant": participants,
    }
    if appointment.status == Appointment.Status.CANCELLED and appointment.cancelled_by:
        data["cancelationReason"] = {
            "text": CANCELLED_BY[Appointment.CancelledBy(appointment.cancelled_by)]
        }
    return FhirAppointment.model_validate(data)


# --- reads ---------------------------------------------------------------------------------------


def appointments_of_visible_clients(user: User) -> QuerySet[Appointment]:
    """Appointments of the agency with at least one client the user may see, each with its
    staff member and its clients."""
    visible = access.visible_clients(user).values("id")
    with_them = AppointmentClient.objects.filter(client_id__in=visible).values("appointment_id")
    return (
        Appointment.objects.filter(agency_id=access.agency_id_of(user), id__in=with_them)
        .select_related("staff")
        .prefetch_related(Prefetch("clients", queryset=Client.objects.only("id", "agency_id")))
    )


def _named(user: User, appointments: list[Appointment]) -> dict[int, list[int]]:
    """Appointment id -> the ids of its clients the user may see (one query)."""
    every = {c.pk for a in appointments for c in a.clients.all()}
    visible = (
        set(access.visible_clients(user).filter(pk__in=every).values_list("pk", flat=True))
        if every
        else set()
    )
    return {a.pk: [c.pk for c in a.clients.all() if c.pk in visible] for a in appointments}


@extend_schema(tags=["fhir"])
class AppointmentSearch(FhirView):
    disclosure_categories = (Category.DEMOGRAPHICS,)

    @extend_schema(
        operation_id="fhir_appointment_search",
        summary="FHIR: a client's appointments as Appointments",
        description="Every appointment of the client, earliest first, whoever it is with: "
        "scheduled → booked, attended → fulfilled, no-show → noshow, cancelled → cancelled. "
        "Participants: the clients you may see (Patient) and the staff member (Practitioner). "
        "The description is the kind of appointment only. Recorded in the audit log as a read "
        "of the chart of each client named.",
        parameters=[PATIENT],
        responses=_fhir_response("A searchset Bundle of Appointments."),
    )
    def get(self, request: Request) -> Response:
        client = self.patient()
        appointments = list(
            appointments_of_visible_clients(self.user)
            .filter(id__in=AppointmentClient.objects.filter(client=client).values("appointment"))
            .order_by("start_at", "id")
        )
        named = _named(self.user, appointments)
        disclose_to_outside(
            self.request,
            client_ids=[client.pk],
            categories=self.disclosure_categories,
            section="fhir Appointment",
        )
        audit_chart_read(user=self.user, client=client, what="fhir Appointment")
        others = {i for ids in named.values() for i in ids} - {client.pk}
        disclose_to_outside(
            self.request,
            client_ids=sorted(others),
            categories=self.disclosure_categories,
            section="fhir Appointment",
        )
        audit_reads(actor=self.user, client_ids=sorted(others), section="fhir Appointment")
        return self.searchset([appointment(a, client_ids=named[a.pk]) for a in appointments])


@extend_schema(tags=["fhir"])
class AppointmentRead(FhirView):
    disclosure_categories = (Category.DEMOGRAPHICS,)

    @extend_schema(
        operation_id="fhir_appointment_read",
        summary="FHIR: an appointment as an Appointment",
        description="The id is the appointment's id; an appointment none of whose clients you "
        "may see is not found. Recorded in the audit log as a read of the chart of each client "
        "named.",
        parameters=[_id_parameter("The appointment's id.")],
        responses=_fhir_response("An Appointment."),
    )
    def get(self, request: Request, pk: str) -> Response:
        found = (
            appointments_of_visible_clients(self.user).filter(pk=int(pk)).first()
            if pk.isascii() and pk.isdigit() and len(pk) <= 18
            else None
        )
        if found is None:
            raise exceptions.NotFound("No such Appointment.")
        client_ids = _named(self.user, [found])[found.pk]
        disclose_to_outside(
            self.request,
            client_ids=client_ids,
            categories=self.disclosure_categories,
            section=f"fhir Appointment {found.pk}",
        )
        audit_reads(actor=self.user, client_ids=client_ids, section=f"fhir Appointment {found.pk}")
        return Response(appointment(found, client_ids=client_ids))
