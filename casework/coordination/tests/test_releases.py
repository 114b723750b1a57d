"""Recording, revoking and ending releases of information, through the pages a case manager uses."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    disclosure_check,
    disclosure_record,
    part2_texts,
)
from casework.coordination.models import Category, Consent, Disclosure, Document, Purpose
from casework.coordination.services_consents import ALL_FUTURE_TPO
from casework.core.models import AuditEvent
from casework.testing.coordination import OrganizationFactory, PersonFactory, document, release

pytestmark = pytest.mark.django_db

PACKET = Logged(channel=Disclosure.Channel.REFERRAL_PACKET, description="Referral packet")


@pytest.fixture
def clinic(cast):  # type: ignore[no-untyped-def]
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


def _form(clinic, today: datetime.date, **changes: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "organization": clinic.pk,
        "person": "",
        "purpose": Purpose.TREATMENT,
        "purpose_detail": "",
        "categories": [Category.DEMOGRAPHICS, Category.NOTES],
        "starts_on": today.isoformat(),
        "expires_on": (today + datetime.timedelta(days=365)).isoformat(),
        "expiry_event": "",
        "signed_how": Consent.SignedHow.ON_SCREEN,
        "signed_by_name": "María O'Connor-Núñez",
        "signer_confirmed": "on",
        "signed_on": today.isoformat(),
        "submission_key": "k-1",
        "action": "record",
    }
    data.update(changes)
    return data


def _url(cast, suffix: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{cast.client.pk}/releases/{suffix}"


def test_a_case_manager_records_a_release_signed_on_screen_and_it_lets_us_share(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    today = cast.agency.today()
    page = http.get(_url(cast, "new/"))
    assert page.status_code == 200
    assert "Riverside Psychiatry" in page.content.decode()

    response = http.post(_url(cast, "new/"), _form(clinic, today))

    consent = Consent.objects.get(client=cast.client)
    assert response.status_code == 302
    assert response["Location"] == _url(cast, f"{consent.pk}/")
    assert consent.signed_how == Consent.SignedHow.ON_SCREEN
    assert consent.signed_by_name == "María O'Connor-Núñez"
    assert consent.categories == [Category.DEMOGRAPHICS, Category.NOTES]
    assert consent.recorded_by == cast.case_manager
    assert AuditEvent.objects.filter(
        action="create", object_type="coordination.consent", object_id=str(consent.pk)
    ).exists()
    sharing = Sharing(
        client=cast.client, categories=frozenset({Category.NOTES}), organization=clinic
    )
    assert disclosure_check(sharing=sharing).allowed
    detail = http.get(response["Location"]).content.decode()
    assert "Riverside Psychiatry" in detail and "In force" in detail


def test_a_release_signed_on_screen_needs_the_confirmation_that_the_client_signed(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = _form(clinic, cast.agency.today(), purpose_detail="Keep what I typed")
    del data["signer_confirmed"]
    response = http.post(_url(cast, "new/"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Confirm that the client" in page
    assert 'value="Keep what I typed"' in page
    assert not Consent.objects.exists()


def test_a_release_signed_on_paper_points_at_the_scanned_form_which_it_requires(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    today = cast.agency.today()
    scan = document(
        client=cast.client,
        by=cast.case_manager,
        kind=Document.Kind.SIGNED_CONSENT,
        title="ROI Riverside signed",
    )
    other_kind = document(client=cast.client, by=cast.case_manager, title="Discharge summary")
    paper = {"signed_how": Consent.SignedHow.PAPER, "signer_confirmed": ""}

    missing = http.post(_url(cast, "new/"), _form(clinic, today, **paper))
    assert missing.status_code == 400
    assert "Choose the scanned signed form" in missing.content.decode()
    wrong = http.post(_url(cast, "new/"), _form(clinic, today, signed_copy=other_kind.pk, **paper))
    assert wrong.status_code == 400
    assert "ROI Riverside signed" in wrong.content.decode()  # offered; the summary is not
    assert "Discharge summary (" not in wrong.content.decode()

    response = http.post(_url(cast, "new/"), _form(clinic, today, signed_copy=scan.pk, **paper))
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.signed_how == Consent.SignedHow.PAPER
    assert consent.signed_copy == scan


def test_sud_counseling_notes_with_any_other_category_are_refused(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = _form(
        clinic,
        cast.agency.today(),
        categories=[Category.SUD_COUNSELING_NOTES, Category.DEMOGRAPHICS],
    )
    response = http.post(_url(cast, "new/"), data)
    assert response.status_code == 400
    assert "SUD counseling notes need their own consent" in response.content.decode()
    assert not Consent.objects.exists()

    alone = _form(clinic, cast.agency.today(), categories=[Category.SUD_COUNSELING_NOTES])
    assert http.post(_url(cast, "new/"), alone).status_code == 302
    assert Consent.objects.get().is_part2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"expires_on": "2020-01-01"}, "cannot end before it starts"),
        ({"signed_on": "2999-01-01"}, "cannot be in the future"),
        ({"purpose": Purpose.OTHER}, "Describe the purpose"),
        ({"expires_on": "", "expiry_event": ""}, "Give the date the release ends"),
        ({"organization": ""}, "Choose who may receive"),
        ({"expires_on": "", "all_future": "on"}, "Only a consent for treatment, payment"),
        ({"categories": []}, "This field is required"),
    ],
)
def test_a_release_that_breaks_a_rule_is_refused_with_a_message_on_its_field(
    cast, http_as, clinic, changes, message
) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.case_manager).post(
        _url(cast, "new/"), _form(clinic, cast.agency.today(), **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_a_tpo_consent_may_cover_all_future_disclosures_until_revoked(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    data = _form(
        clinic,
        cast.agency.today(),
        purpose=Purpose.TPO,
        expires_on="",
        all_future="on",
        categories=[Category.SUBSTANCE_USE, Category.NOTES],
    )
    response = http_as(cast.case_manager).post(_url(cast, "new/"), data)
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.expires_on is None and consent.expiry_event == ALL_FUTURE_TPO
    page = http_as(cast.case_manager).get(response["Location"]).content.decode()
    assert "42 CFR Part 2" in page
    assert part2_texts()["revocation_statement"] in page
    assert part2_texts()["tpo_consent_redisclosure_statement"] in page
    assert "The event happened" not in page  # "all future" is not an event


def test_a_double_submit_records_one_release(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = _form(clinic, cast.agency.today(), submission_key="same-key")
    first = http.post(_url(cast, "new/"), data)
    second = http.post(_url(cast, "new/"), data)
    assert Consent.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_revoked_release_stops_disclosure_at_once(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    sharing = Sharing(
        client=cast.client, categories=frozenset({Category.NOTES}), organization=clinic
    )
    disclosure_record(sharing=sharing, logged=PACKET, by=cast.case_manager)
    http = http_as(cast.case_manager)

    empty = http.post(_url(cast, f"{consent.pk}/revoke/"), {"note": " "})
    assert empty.status_code == 400
    assert "How the client revoked it" in empty.content.decode()
    response = http.post(_url(cast, f"{consent.pk}/revoke/"), {"note": "Told me by phone"})

    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == cast.case_manager
    verdict = disclosure_check(sharing=sharing)
    assert not verdict.allowed and "revoked" in verdict.refusal
    with pytest.raises(DisclosureRefused):
        disclosure_record(sharing=sharing, logged=PACKET, by=cast.case_manager)
    assert Disclosure.objects.count() == 1
    again = http.post(_url(cast, f"{consent.pk}/revoke/"), {"note": "Second click"})
    assert again.status_code == 302
    consent.refresh_from_db()
    assert consent.revocation_note == "Told me by phone"
    page = http.get(_url(cast)).content.decode()
    assert "Revoked" in page


def test_a_release_ended_by_its_event_stops_disclosure(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    Consent.objects.filter(pk=consent.pk).update(
        expires_on=None, expiry_event="When I leave the shelter program"
    )
    sharing = Sharing(
        client=cast.client, categories=frozenset({Category.NOTES}), organization=clinic
    )
    assert disclosure_check(sharing=sharing).allowed
    http = http_as(cast.case_manager)
    assert "The event happened" in http.get(_url(cast, f"{consent.pk}/")).content.decode()

    future = http.post(
        _url(cast, f"{consent.pk}/ended/"),
        {"ended_on": (today + datetime.timedelta(days=1)).isoformat()},
    )
    assert future.status_code == 400
    assert "up to today" in future.content.decode()
    response = http.post(_url(cast, f"{consent.pk}/ended/"), {"ended_on": today.isoformat()})

    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.ended_on == today
    verdict = disclosure_check(sharing=sharing)
    assert not verdict.allowed and "ended" in verdict.refusal


def test_a_release_with_an_end_date_has_no_event_to_record(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    response = http_as(cast.case_manager).post(
        _url(cast, f"{consent.pk}/ended/"), {"ended_on": cast.agency.today().isoformat()}
    )
    assert response.status_code == 400
    assert "does not end on an event" in response.content.decode()


def test_the_list_separates_releases_in_force_from_ended_ones_and_warns_before_expiry(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        expires_on=today + datetime.timedelta(days=12),
        categories=(Category.SUBSTANCE_USE,),
    )
    pharmacy = OrganizationFactory(agency=cast.agency, name="Corner Pharmacy")
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=pharmacy,
        starts_on=today - datetime.timedelta(days=40),
        expires_on=today - datetime.timedelta(days=2),
    )
    page = http_as(cast.case_manager).get(_url(cast)).content.decode()
    in_force, ended = page.split("Ended <span")
    assert "Riverside Psychiatry" in in_force and "expires in 12 days" in in_force
    assert "42 CFR Part 2" in in_force
    assert "Corner Pharmacy" in ended and "Expired" in ended
    assert f"/clients/{cast.client.pk}/disclosures/" in page


def test_the_printable_form_lists_the_release_and_the_part2_statements(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    data = _form(
        clinic,
        cast.agency.today(),
        purpose=Purpose.TPO,
        categories=[Category.SUBSTANCE_USE],
        action="print",
        signed_how="",
        signed_by_name="",
        signer_confirmed="",
        signed_on="",
    )
    response = http.post(_url(cast, "new/"), data)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(response.content)).pages
    )
    assert "Riverside Psychiatry" in text
    assert "Substance-use treatment records" in text
    assert "may revoke this consent" in text
    assert "except for uses and disclosures for civil, criminal" in text
    assert not Consent.objects.exists()  # printing records nothing
    assert AuditEvent.objects.filter(action="export", client_id=cast.client.pk).exists()

    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    recorded = http.get(_url(cast, f"{consent.pk}/release.pdf"))
    assert recorded.status_code == 200
    text = PdfReader(io.BytesIO(recorded.content)).pages[0].extract_text() or ""
    assert "Authorization to release information" in " ".join(text.split())


def test_the_release_page_shows_what_was_shared_under_it(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    doctor = PersonFactory(agency=cast.agency, organization=clinic, name="Dr. Ana Ruiz")
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    sharing = Sharing(client=cast.client, categories=frozenset({Category.PLANS}), person=doctor)
    disclosure_record(sharing=sharing, logged=PACKET, by=cast.case_manager)
    page = http_as(cast.case_manager).get(_url(cast, f"{consent.pk}/")).content.decode()
    assert "Dr. Ana Ruiz" in page and "Service plans" in page and "Referral packet" in page


def test_billing_reads_releases_only_where_the_agency_lets_it_read_narratives(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    http = http_as(cast.billing)
    assert http.get(_url(cast)).status_code == 403
    assert http.get(f"/clients/{cast.client.pk}/disclosures/").status_code == 403
    cast.agency.billing_sees_narratives = True
    cast.agency.save(update_fields=["billing_sees_narratives"])
    assert http.get(_url(cast)).status_code == 200
    assert http.get(_url(cast, "new/")).status_code == 403
    assert http.post(_url(cast, f"{consent.pk}/revoke/"), {"note": "x"}).status_code == 403
    consent.refresh_from_db()
    assert consent.revoked_at is None


def _list_queries(http, url: str) -> int:  # type: ignore[no-untyped-def]
    http.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_the_releases_list_takes_the_same_queries_for_one_release_or_many(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    one = _list_queries(http, _url(cast))
    for n in range(6):
        person = PersonFactory(agency=cast.agency, organization=clinic)
        release(
            client=cast.client,
            by=cast.case_manager,
            person=person,
            organization=OrganizationFactory(agency=cast.agency) if n % 2 else None,
        )
    assert _list_queries(http, _url(cast)) == one
