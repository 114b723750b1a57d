"""Referral packets: what the client's releases allow decides whether it goes; a refusal leaves
nothing behind; the PDF carries the summary, the chart sections, the Part 2 notice and the
documents; downloading it is access-checked and audited."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from casework.clients.models import Diagnosis, Medication
from casework.coordination.disclosure import part2_texts
from casework.coordination.models import Category, Consent, Disclosure, Organization, Referral
from casework.coordination.services_referrals import (
    PacketChoice,
    ReferralDetails,
    ReferralError,
    referral_create,
    referral_packet_save,
    referral_send,
)
from casework.core.models import AuditEvent, User
from casework.testing.coordination import OrganizationFactory, document, release
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

SUMMARY = "María has been stable for six months; she asks for an evening appointment."


def _pdf_with_text(text: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=f"<p>{text}</p>").write_pdf()
    return pdf


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 250), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def _text(pdf: PdfReader, pages: slice = slice(None)) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pdf.pages[pages])


@pytest.fixture
def clinic(cast: Cast) -> Organization:
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


@pytest.fixture
def referral(cast: Cast, clinic: Organization) -> Referral:
    return referral_create(
        client=cast.client,
        by=cast.case_manager,
        details=ReferralDetails(organization=clinic, reason="Needs a psychiatrist."),
    )


def _packet_form(referral: Referral, *documents: object, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "summary": SUMMARY,
        "sections": [Category.DEMOGRAPHICS, Category.DIAGNOSES],
        "documents": [d.pk for d in documents],  # type: ignore[attr-defined]
        "sent_via": "fax",
        "action": "send",
        "version": referral.version,
    }
    data.update(extra)
    return data


def test_a_packet_with_a_part2_document_and_no_part2_consent_is_refused_and_nothing_is_sent(
    cast: Cast, clinic: Organization, referral: Referral, http_as: HttpAs
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    sud_record = document(
        client=cast.client, by=cast.case_manager, part2=True, title="SUD program discharge"
    )
    http = http_as(cast.case_manager)
    url = reverse("referral_packet", args=[cast.client.pk, referral.pk])
    response = http.post(url, _packet_form(referral, sud_record))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Not sent" in body
    assert "42 CFR Part 2 consent" in body
    assert SUMMARY in body  # what was typed is still there
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT
    assert not referral.packet_file
    assert referral.disclosure is None
    assert referral.sent_at is None
    assert not Disclosure.objects.exists()
    assert not referral.events.filter(status=Referral.Status.SENT).exists()
    # What was chosen is kept for when the consent is on file.
    assert referral.packet_summary == SUMMARY
    assert list(referral.packet_documents.all()) == [sud_record]
    assert http.get(url).context["refusal"]


def test_with_a_release_and_a_part2_consent_it_is_sent_and_the_disclosure_names_both(
    cast: Cast, clinic: Organization, referral: Referral, http_as: HttpAs
) -> None:
    ordinary = release(client=cast.client, by=cast.case_manager, organization=clinic)
    part2 = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
    )
    Diagnosis.objects.create(
        agency=cast.agency, client=cast.client, code="F33.1", description="Major depression"
    )
    Medication.objects.create(agency=cast.agency, client=cast.client, name="Sertraline 50 mg")
    sud_record = document(
        client=cast.client,
        by=cast.case_manager,
        part2=True,
        title="SUD program discharge",
        content=_pdf_with_text("APPENDED DISCHARGE PAGE"),
    )
    photo = document(client=cast.client, by=cast.case_manager, title="Insurance card")
    from casework.coordination.models import Document

    Document.objects.filter(pk=photo.pk).update(content_type="image/png")
    photo.refresh_from_db()
    with photo.file.open("wb") as stored:
        stored.write(_png())

    http = http_as(cast.case_manager)
    response = http.post(
        reverse("referral_packet", args=[cast.client.pk, referral.pk]),
        _packet_form(referral, sud_record, photo),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT
    assert referral.sent_via == "fax"
    assert referral.sent_at is not None
    disclosure = referral.disclosure
    assert disclosure is not None
    assert disclosure.channel == Disclosure.Channel.REFERRAL_PACKET
    assert disclosure.part2
    assert {disclosure.consent_id, *disclosure.also_under} == {ordinary.pk, part2.pk}
    assert disclosure.consent_id == part2.pk  # a Part 2 disclosure names its Part 2 consent
    assert set(disclosure.categories) >= {
        Category.DEMOGRAPHICS,
        Category.DIAGNOSES,
        Category.DOCUMENTS,
        Category.SUBSTANCE_USE,
    }
    assert (disclosure.object_type, disclosure.object_id) == (
        "coordination.referral",
        str(referral.pk),
    )

    with referral.packet_file.open("rb") as stored:
        pdf = PdfReader(stored)
        text = _text(pdf)
        last_two = [pdf.pages[-2], pdf.pages[-1]]
    assert " ".join(SUMMARY.split()) in text
    notice = " ".join(part2_texts()["notice_to_accompany_disclosure"].split())
    assert notice[:120] in text
    assert "Major depression" in text and "Sertraline" in text
    assert f"Release {ordinary.pk}" in text and f"Release {part2.pk}" in text
    assert "APPENDED DISCHARGE PAGE" in (last_two[0].extract_text() or "")
    assert "/XObject" in last_two[1]["/Resources"]  # the image, placed on its own page
    assert [float(x) for x in last_two[1].mediabox[2:]] == [612.0, 792.0]
    assert referral.events.filter(status=Referral.Status.SENT).get().detail.lower() == "by fax"


def test_the_packet_pdf_is_downloaded_privately_and_the_download_is_audited(
    cast: Cast, clinic: Organization, referral: Referral, http_as: HttpAs
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    referral = referral_packet_save(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        packet=PacketChoice(summary=SUMMARY),
    )
    referral = referral_send(
        referral=referral, by=cast.case_manager, expected_version=referral.version, sent_via="email"
    )
    url = reverse("referral_packet_pdf", args=[cast.client.pk, referral.pk])
    response = http_as(cast.colleague).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="export", object_type="coordination.referral", object_id=str(referral.pk)
    ).exists()
    assert http_as(cast.other_team_cm).get(url).status_code == 404
    assert http_as(cast.outsider_cm).get(url).status_code == 404


def test_a_sent_packet_is_not_downloaded_again_once_its_release_is_revoked(
    cast: Cast, clinic: Organization, referral: Referral, http_as: HttpAs
) -> None:
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    referral = referral_packet_save(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        packet=PacketChoice(summary=SUMMARY),
    )
    referral = referral_send(
        referral=referral, by=cast.case_manager, expected_version=referral.version, sent_via="fax"
    )
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    url = reverse("referral_packet_pdf", args=[cast.client.pk, referral.pk])
    response = http_as(cast.case_manager).get(url, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/referrals/{referral.pk}/")
    assert "cannot be downloaded to send again" in response.content.decode()
    assert "revoked" in response.content.decode()


def test_a_revoked_release_stops_the_next_packet(
    cast: Cast, clinic: Organization, referral: Referral
) -> None:
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    first = referral_send(
        referral=referral, by=cast.case_manager, expected_version=referral.version, sent_via="fax"
    )
    assert first.status == Referral.Status.SENT
    Consent.objects.filter(pk=consent.pk).update(
        revoked_at=timezone.now(), revoked_by=cast.case_manager
    )
    second = referral_create(
        client=cast.client,
        by=cast.case_manager,
        details=ReferralDetails(organization=clinic, reason="Second try"),
    )
    with pytest.raises(ReferralError, match="not in force"):
        referral_send(
            referral=second, by=cast.case_manager, expected_version=second.version, sent_via="fax"
        )
    second.refresh_from_db()
    assert second.status == Referral.Status.DRAFT
    assert not second.packet_file
    assert Disclosure.objects.count() == 1


def test_sending_twice_sends_once(cast: Cast, clinic: Organization, referral: Referral) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    version = referral.version
    referral_send(referral=referral, by=cast.case_manager, expected_version=version, sent_via="fax")
    with pytest.raises(ReferralError):
        referral_send(
            referral=referral, by=cast.case_manager, expected_version=version, sent_via="fax"
        )
    assert Disclosure.objects.count() == 1


def test_another_clients_or_a_removed_document_cannot_go_in_the_packet(
    cast: Cast, clinic: Organization, referral: Referral
) -> None:
    theirs = document(client=cast.other_client, by=cast.other_team_cm)
    with pytest.raises(ReferralError, match="this client's chart"):
        referral_packet_save(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            packet=PacketChoice(documents=(theirs,)),
        )
    mine = document(client=cast.client, by=cast.case_manager)
    referral = referral_packet_save(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        packet=PacketChoice(documents=(mine,)),
    )
    type(mine).objects.filter(pk=mine.pk).update(removed_at=timezone.now())
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    with pytest.raises(ReferralError, match="was removed"):
        referral_send(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            sent_via="fax",
        )
    assert not Disclosure.objects.exists()


def test_the_packet_page_offers_only_this_clients_documents(
    cast: Cast, referral: Referral, http_as: HttpAs
) -> None:
    mine = document(client=cast.client, by=cast.case_manager, title="My discharge summary")
    document(client=cast.other_client, by=cast.other_team_cm, title="Their summary")
    page = http_as(cast.case_manager).get(
        reverse("referral_packet", args=[cast.client.pk, referral.pk])
    )
    assert list(page.context["form"].fields["documents"].queryset) == [mine]
    assert "Their summary" not in page.content.decode()


def test_a_release_revoked_while_the_packet_is_being_made_stops_it_and_no_file_is_left(
    cast: Cast, clinic: Organization, referral: Referral, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casework.coordination import packets

    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    real_build = packets.packet_build

    def build_then_revoke(**kwargs: object) -> bytes:
        pdf = real_build(**kwargs)  # type: ignore[arg-type]
        Consent.objects.filter(pk=consent.pk).update(
            revoked_at=timezone.now(), revoked_by=cast.case_manager
        )
        return pdf

    monkeypatch.setattr(packets, "packet_build", build_then_revoke)
    stored_before = set(_stored_packets())
    with pytest.raises(ReferralError, match="not in force"):
        referral_send(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            sent_via="fax",
        )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT
    assert not referral.packet_file
    assert not Disclosure.objects.exists()
    assert set(_stored_packets()) == stored_before


def _stored_packets() -> list[str]:
    from pathlib import Path

    from django.conf import settings

    return [str(p) for p in Path(settings.CASEWORK_DOCUMENTS_ROOT).rglob("referral-*.pdf")]


def test_a_failure_after_the_file_is_stored_rolls_back_and_removes_the_file(
    cast: Cast, clinic: Organization, referral: Referral, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casework.coordination import services_referrals

    release(client=cast.client, by=cast.case_manager, organization=clinic)

    def broken_event(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services_referrals, "_event", broken_event)
    stored_before = set(_stored_packets())
    with pytest.raises(RuntimeError):
        referral_send(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            sent_via="fax",
        )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT
    assert not Disclosure.objects.exists()
    assert set(_stored_packets()) == stored_before
