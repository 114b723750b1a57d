"""Directory entries, releases and documents for tests."""

from __future__ import annotations

import datetime
import hashlib
import io

import factory
from django.core.files.base import ContentFile
from pypdf import PdfWriter

from casework.clients.models import Client
from casework.coordination.models import (
    Category,
    Consent,
    Document,
    Organization,
    OrganizationService,
    Person,
    Purpose,
    ServiceType,
)
from casework.core.models import User


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# A real one-page PDF, as pypdf (and so the upload check and the packet builder) reads it.
TINY_PDF = _blank_pdf()


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Riverside Clinic {n}")
    address = factory.Sequence(lambda n: f"{100 + n} Main St, Tacoma, WA")
    phone = "253-555-0100"
    is_covered_entity = True


def offers(organization: Organization, *service_types: ServiceType) -> None:
    for service_type in service_types:
        OrganizationService.objects.create(
            agency=organization.agency, organization=organization, service_type=service_type
        )


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Dr. Avery Lin {n}")
    role = Person.Role.PSYCHIATRIST


def release(
    *,
    client: Client,
    by: User,
    organization: Organization | None = None,
    person: Person | None = None,
    categories: tuple[str, ...] = (
        Category.DEMOGRAPHICS,
        Category.DIAGNOSES,
        Category.NOTES,
        Category.PLANS,
        Category.DOCUMENTS,
    ),
    starts_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    purpose: str = Purpose.TREATMENT,
) -> Consent:
    """A release signed on screen today (in the agency's time zone), for a year unless told."""
    today = client.agency.today()
    starts_on = starts_on or today
    return Consent.objects.create(
        agency=client.agency,
        client=client,
        organization=organization,
        person=person,
        purpose=purpose,
        categories=list(categories),
        starts_on=starts_on,
        expires_on=expires_on or starts_on + datetime.timedelta(days=365),
        signed_how=Consent.SignedHow.ON_SCREEN,
        signed_by_name=client.display_name,
        signed_on=starts_on,
        recorded_by=by,
    )


def document(
    *,
    client: Client,
    by: User,
    part2: bool = False,
    kind: str = Document.Kind.DISCHARGE_SUMMARY,
    title: str = "Discharge summary",
    content: bytes = TINY_PDF,
    name: str = "summary.pdf",
) -> Document:
    """A PDF document stored as an upload would be (bypassing the upload checks)."""
    doc = Document(
        agency=client.agency,
        client=client,
        kind=kind,
        title=title,
        dated_on=client.agency.today(),
        part2=part2,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=by,
    )
    doc.file.save("upload.pdf", ContentFile(content), save=False)
    doc.save()
    return doc
