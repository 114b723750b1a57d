"""A referral packet as one PDF: a cover written by WeasyPrint (the referral, the chosen chart
sections, the releases it is shared under, the 42 CFR Part 2 notice where Part 2 records go
with it), then each chosen document, PDFs page by page and images placed on a page.

Only `services_referrals.referral_send` builds packets, inside the transaction that logs the
disclosure: nothing here writes to the database.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from casework.clients.models import Client, Coverage, Diagnosis, Identifier, Medication, Phone
from casework.coordination.disclosure import Sharing, part2_texts
from casework.coordination.errors import CoordinationError
from casework.coordination.models import Category, Consent, Document, Referral
from casework.core.models import User
from casework.plans.models import ServicePlan
from casework.plans.selectors import plans_visible, plans_with_content

# Letter paper, and the resolution images are placed at.
PAGE_POINTS = (612, 792)
IMAGE_DPI = 150
MARGIN_INCHES = 0.5
PACKET_SECTIONS = (Category.DEMOGRAPHICS, Category.DIAGNOSES, Category.PLANS)


def appendable_documents(client: Client) -> QuerySet[Document]:
    """The client's documents a packet can carry: not removed, and a PDF or an image."""
    return Document.objects.filter(client=client, removed_at__isnull=True).filter(
        Q(content_type="application/pdf") | Q(content_type__startswith="image/")
    )


@dataclass
class ChartSections:
    """The parts of the chart a packet includes, as they are today."""

    demographics: bool = False
    phones: list[Phone] = field(default_factory=list)
    coverages: list[Coverage] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    diagnoses: list[Diagnosis] | None = None
    medications: list[Medication] | None = None
    plan: ServicePlan | None = None
    plans_included: bool = False


def chart_sections(
    *, user: User, client: Client, sections: Iterable[str], today: datetime.date
) -> ChartSections:
    """Read the chosen sections: active diagnoses and medications, the current signed plan."""
    chosen = set(sections)
    found = ChartSections()
    if Category.DEMOGRAPHICS in chosen:
        found.demographics = True
        found.phones = list(Phone.objects.filter(client=client))
        found.coverages = [
            c
            for c in Coverage.objects.filter(client=client).select_related("payer")
            if c.is_active_on(today)
        ]
        found.identifiers = list(Identifier.objects.filter(client=client))
    if Category.DIAGNOSES in chosen:
        found.diagnoses = list(
            Diagnosis.objects.filter(client=client).filter(
                Q(resolved_on__isnull=True) | Q(resolved_on__gt=today)
            )
        )
        found.medications = list(
            Medication.objects.filter(client=client).filter(
                Q(stopped_on__isnull=True) | Q(stopped_on__gt=today)
            )
        )
    if Category.PLANS in chosen:
        found.plans_included = True
        found.plan = (
            plans_with_content(
                plans_visible(user, client.pk).filter(status=ServicePlan.Status.SIGNED)
            )
            .order_by("-number")
            .first()
        )
    return found


@dataclass(frozen=True)
class Attachment:
    document: Document
    pdf: bytes
    pages: int


def _pdf_pages(document: Document, data: bytes) -> tuple[bytes, int]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CoordinationError(
                f"“{document.title}” is password-protected, so it cannot go in the packet. "
                "Upload a copy without a password, or leave it out."
            )
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise CoordinationError(
            f"“{document.title}” cannot be read as a PDF, so it cannot go in the packet. "
            "Leave it out, or upload it again."
        ) from error
    if pages == 0:
        raise CoordinationError(f"“{document.title}” has no pages; leave it out.")
    return data, pages


def _image_page(document: Document, data: bytes) -> tuple[bytes, int]:
    """The image on one letter page, scaled down to fit inside the margins."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    width, height = (round(points / 72 * IMAGE_DPI) for points in PAGE_POINTS)
    margin = round(MARGIN_INCHES * IMAGE_DPI)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise CoordinationError(
            f"“{document.title}” cannot be read as an image, so it cannot go in the packet. "
            "Leave it out, or upload it again."
        ) from error
    image.thumbnail((width - 2 * margin, height - 2 * margin))
    page = Image.new("RGB", (width, height), "white")
    page.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    buffer = io.BytesIO()
    page.save(buffer, format="PDF", resolution=IMAGE_DPI)
    return buffer.getvalue(), 1


def attachment_read(document: Document) -> Attachment:
    with document.file.open("rb") as stored:
        data = stored.read()
    if document.content_type == "application/pdf":
        pdf, pages = _pdf_pages(document, data)
    elif document.content_type.startswith("image/"):
        pdf, pages = _image_page(document, data)
    else:
        raise CoordinationError(
            f"“{document.title}” is neither a PDF nor an image, so it cannot go in the packet."
        )
    return Attachment(document, pdf, pages)


def _cover_pdf(context: dict[str, Any]) -> bytes:
    try:
        from weasyprint import HTML  # imported here: it loads Pango, which only PDFs need
    except OSError as error:
        raise CoordinationError(
            "Packets need the Pango library on the server (Debian: apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0). Ask your administrator; nothing was sent."
        ) from error
    html = render_to_string("coordination/packet_pdf.html", context)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def packet_build(
    *,
    referral: Referral,
    by: User,
    sharing: Sharing,
    consents: Sequence[Consent],
    documents: Sequence[Document],
) -> bytes:
    """The whole packet, cover first, as the bytes of one PDF.

    `sharing` is what it discloses and `consents` the releases that allow it, main one first.
    """
    from pypdf import PdfReader, PdfWriter

    client = referral.client
    today = client.agency.today()
    attachments = [attachment_read(document) for document in documents]
    labels = dict(Category.choices)
    texts = part2_texts()
    cover = _cover_pdf(
        {
            "referral": referral,
            "client": client,
            "agency": client.agency,
            "by": by,
            "today": today,
            "sent_at": timezone.localtime(timezone.now(), client.agency.tzinfo),
            "chart": chart_sections(
                user=by, client=client, sections=referral.packet_categories, today=today
            ),
            "attachments": attachments,
            "consents": consents,
            "categories": [str(labels.get(code, code)) for code in sorted(sharing.categories)],
            "part2": sharing.part2,
            "part2_notice": texts["notice_to_accompany_disclosure"],
            "short_notice": texts["short_notice"],
            "tpo_statement": texts["tpo_consent_redisclosure_statement"],
            "any_tpo": any(c.purpose == "tpo" and c.is_part2 for c in consents),
        }
    )
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)))
    for attachment in attachments:
        writer.append(PdfReader(io.BytesIO(attachment.pdf)))
    # No names in the file's own properties: they show in file managers and mail previews.
    writer.add_metadata({"/Title": "Referral packet", "/Producer": "Casework"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
