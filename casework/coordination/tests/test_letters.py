"""Letters from templates: placeholders, the agency's templates, and issuing as a disclosure."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from casework.clients.models import Episode
from casework.coordination.disclosure import part2_texts
from casework.coordination.letters import fill, letter_templates_seed, unknown_placeholders
from casework.coordination.models import (
    Category,
    Communication,
    Disclosure,
    Letter,
    LetterTemplate,
    Person,
)
from casework.core.models import AuditEvent
from casework.testing.coordination import OrganizationFactory, PersonFactory, release
from casework.testing.factories import ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def landlord(cast):  # type: ignore[no-untyped-def]
    office = OrganizationFactory(agency=cast.agency, name="Harbor Apartments", address="9 Pier Rd")
    return PersonFactory(
        agency=cast.agency, organization=office, name="Sam Whitfield", role=Person.Role.LANDLORD
    )


def _pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pages)


def _start(cast, http, landlord) -> Letter:  # type: ignore[no-untyped-def]
    letter_templates_seed(agency=cast.agency, by=cast.admin)
    page = http.get(f"/clients/{cast.client.pk}/letters/new/")
    assert page.status_code == 200
    template = LetterTemplate.objects.get(
        agency=cast.agency, name__startswith="Support for a tenant"
    )
    response = http.post(
        f"/clients/{cast.client.pk}/letters/new/",
        {
            "template": template.pk,
            "person": landlord.pk,
            "organization": "",
            "submission_key": "l1",
        },
    )
    letter = Letter.objects.get()
    assert response["Location"] == f"/clients/{cast.client.pk}/letters/{letter.pk}/"
    return letter


def test_the_placeholders_are_filled_from_a_whitelist_and_nothing_else_is_interpreted() -> None:
    text = "Dear {{ recipient_name }}, {{client_name}} {% if x %}{{ settings.SECRET_KEY }}"
    assert fill(text, {"recipient_name": "Sam", "client_name": "María"}) == (
        "Dear Sam, María {% if x %}{{ settings.SECRET_KEY }}"
    )
    assert unknown_placeholders(text) == ["{{ settings.SECRET_KEY }}"]
    assert unknown_placeholders("Hello {{ client_name") == ["{{"]


def test_an_admin_adds_the_two_standard_letters_once_and_nothing_is_made_by_looking(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    page = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/letters/new/")
    assert "no letter templates yet" in page.content.decode()
    admin = http_as(cast.admin)
    assert "Add the standard letters" in admin.get("/letter-templates/").content.decode()
    assert not LetterTemplate.objects.exists()
    admin.post("/letter-templates/standard/")
    admin.post("/letter-templates/standard/")
    names = sorted(LetterTemplate.objects.filter(agency=cast.agency).values_list("name", flat=True))
    assert len(names) == 2
    assert names[0].startswith("Support for a tenant")
    assert names[1].startswith("Verification of case management")
    assert not LetterTemplate.objects.filter(agency=cast.outsider_agency).exists()
    assert http_as(cast.case_manager).post("/letter-templates/standard/").status_code == 403


def test_a_new_letter_has_its_placeholders_filled_in(cast, http_as, landlord) -> None:  # type: ignore[no-untyped-def]
    cast.case_manager.phone = "253-555-0199"
    cast.case_manager.save()
    letter = _start(cast, http_as(cast.case_manager), landlord)
    assert "{{" not in letter.body
    assert "Dear Sam Whitfield," in letter.body
    assert "María O'Connor-Núñez" in letter.body
    assert f"{cast.client.date_of_birth:%m/%d/%Y}" in letter.body
    assert cast.case_manager.full_name in letter.body and "253-555-0199" in letter.body
    assert "Home Agency" in letter.body
    assert letter.issued_at is None


def test_a_draft_with_an_unknown_placeholder_is_refused_and_keeps_the_text(
    cast, http_as, landlord
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    letter = _start(cast, http, landlord)
    response = http.post(
        f"/clients/{cast.client.pk}/letters/{letter.pk}/",
        {"subject": "Support", "body": "Dear {{ landlord }}, my edit is kept"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown placeholder {{ landlord }}" in page and "my edit is kept" in page
    ok = http.post(
        f"/clients/{cast.client.pk}/letters/{letter.pk}/",
        {"subject": "Support", "body": "Dated {{ today }}. Thank you."},
    )
    assert ok.status_code == 302
    letter.refresh_from_db()
    assert "{{" not in letter.body and letter.body.startswith("Dated ")


def test_issuing_without_a_release_is_refused_and_nothing_is_logged(
    cast, http_as, landlord
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    letter = _start(cast, http, landlord)

    response = http.post(f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/", follow=True)

    page = response.content.decode()
    assert "The letter was not issued" in page and "Sam Whitfield" in page
    letter.refresh_from_db()
    assert letter.issued_at is None and letter.disclosure is None
    assert not Disclosure.objects.exists()
    assert not Communication.objects.exists()
    pdf = http.get(f"/clients/{cast.client.pk}/letters/{letter.pk}/letter.pdf")
    assert pdf.status_code == 404


def test_issuing_with_a_release_logs_the_disclosure_and_the_letter_and_freezes_it(
    cast, http_as, landlord
) -> None:  # type: ignore[no-untyped-def]
    consent = release(
        client=cast.client,
        by=cast.case_manager,
        organization=landlord.organization,
        categories=(Category.DEMOGRAPHICS,),
    )
    http = http_as(cast.case_manager)
    letter = _start(cast, http, landlord)

    template_text = letter.body
    response = http.post(
        f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/",
        {"subject": "Tenancy of María", "body": template_text},
    )

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.issued_at is not None and letter.body == template_text
    disclosure = Disclosure.objects.get()
    assert letter.disclosure == disclosure and disclosure.consent == consent
    assert disclosure.channel == Disclosure.Channel.LETTER
    assert disclosure.categories == [Category.DEMOGRAPHICS] and not disclosure.part2
    contact = Communication.objects.get()
    assert letter.communication == contact
    assert contact.channel == Communication.Channel.LETTER and contact.person == landlord

    changed = http.post(
        f"/clients/{cast.client.pk}/letters/{letter.pk}/",
        {"subject": "Changed", "body": "Changed after issue"},
        follow=True,
    )
    assert "issued and is kept as sent" in changed.content.decode()
    letter.refresh_from_db()
    assert letter.body == template_text
    http.post(f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/")
    assert Disclosure.objects.count() == 1  # issuing twice logs once

    pdf = http.get(f"/clients/{cast.client.pk}/letters/{letter.pk}/letter.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "Home Agency" in text and "Sam Whitfield" in text and "Harbor Apartments" in text
    assert "Re: Tenancy of María" in text and "I am writing in support of" in text
    assert "42 CFR part 2" not in text
    assert AuditEvent.objects.filter(action="export", object_type="coordination.letter").exists()
    accounting = http.get(f"/clients/{cast.client.pk}/disclosures/").content.decode()
    assert "Letter: Tenancy of María" in accounting


def test_a_letter_for_a_client_of_a_part2_program_carries_the_notice(
    cast, http_as, landlord
) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory(agency=cast.agency, is_part2=True)
    Episode.objects.create(
        agency=cast.agency, client=cast.client, program=program, admitted_on=cast.agency.today()
    )
    template = LetterTemplate.objects.create(
        agency=cast.agency,
        name="Treatment summary",
        body="{{ client_name }} attends treatment.",
        categories=[Category.DEMOGRAPHICS, Category.NOTES],
    )
    release(
        client=cast.client,
        by=cast.case_manager,
        person=landlord,
        categories=(Category.DEMOGRAPHICS, Category.NOTES),
    )
    http = http_as(cast.case_manager)
    http.post(
        f"/clients/{cast.client.pk}/letters/new/",
        {"template": template.pk, "person": landlord.pk, "submission_key": "p2"},
    )
    letter = Letter.objects.get()

    refused = http.post(f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/", follow=True)
    assert "42 CFR Part 2 consent" in refused.content.decode()
    release(
        client=cast.client,
        by=cast.case_manager,
        person=landlord,
        categories=(Category.SUBSTANCE_USE,),
    )
    http.post(f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/")

    assert Disclosure.objects.get().part2
    text = _pdf_text(http.get(f"/clients/{cast.client.pk}/letters/{letter.pk}/letter.pdf").content)
    assert " ".join(part2_texts()["notice_to_accompany_disclosure"].split()[:12]) in text


def test_an_admin_keeps_the_letter_templates_and_unknown_placeholders_are_refused(
    cast, http_as
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.admin)
    assert http.get("/letter-templates/").status_code == 200
    data = {
        "name": "Letter to a school",
        "body": "Dear {{ recipient_name }}, {{ client_nickname }} attends.",
        "categories": [Category.DEMOGRAPHICS],
        "is_active": "on",
        "submission_key": "t1",
    }
    refused = http.post("/letter-templates/new/", data)
    assert refused.status_code == 400
    assert "Unknown placeholder {{ client_nickname }}" in refused.content.decode()
    no_demographics = http.post(
        "/letter-templates/new/",
        {**data, "body": "Dear {{ recipient_name }}", "categories": [Category.NOTES]},
    )
    assert "include demographics" in no_demographics.content.decode()

    saved = http.post("/letter-templates/new/", {**data, "body": "Dear {{ recipient_name }},"})
    assert saved.status_code == 302
    template = LetterTemplate.objects.get(name="Letter to a school")
    assert template.categories == [Category.DEMOGRAPHICS]

    retired = http.post(
        f"/letter-templates/{template.pk}/",
        {"name": "Letter to a school", "body": "Hello", "categories": [Category.DEMOGRAPHICS]},
    )
    assert retired.status_code == 302
    template.refresh_from_db()
    assert not template.is_active and template.body == "Hello"
    taken = http.post(
        "/letter-templates/new/",
        {**data, "body": "Hi", "name": "letter to a SCHOOL", "submission_key": "t2"},
    )
    assert "Another template has this name" in taken.content.decode()


def test_only_admins_change_letter_templates_and_never_another_agencys(cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.admin).post("/letter-templates/standard/")
    template = LetterTemplate.objects.filter(agency=cast.agency).first()
    assert template is not None
    assert http_as(cast.case_manager).get("/letter-templates/").status_code == 403
    assert http_as(cast.case_manager).get(f"/letter-templates/{template.pk}/").status_code == 403
    assert http_as(cast.outsider_admin).get(f"/letter-templates/{template.pk}/").status_code == 404
    assert (
        http_as(cast.outsider_admin)
        .post(f"/letter-templates/{template.pk}/", {"name": "x", "body": "y"})
        .status_code
        == 404
    )


def test_a_letter_written_by_hand_is_narrative_its_release_must_cover(
    cast, http_as, landlord
) -> None:  # type: ignore[no-untyped-def]
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=landlord.organization,
        categories=(Category.DEMOGRAPHICS,),
    )
    http = http_as(cast.case_manager)
    letter = _start(cast, http, landlord)
    issue = f"/clients/{cast.client.pk}/letters/{letter.pk}/issue/"
    edited = {"subject": "Tenancy", "body": "Dear Sam, he has been unwell since March."}

    refused = http.post(issue, edited, follow=True)

    assert "Service notes" in refused.content.decode()
    letter.refresh_from_db()
    assert letter.issued_at is None and Category.NOTES in letter.categories
    assert not Disclosure.objects.exists()
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=landlord.organization,
        categories=(Category.DEMOGRAPHICS, Category.NOTES),
    )
    http.post(issue, edited)
    letter.refresh_from_db()
    assert letter.issued_at is not None
    assert sorted(Disclosure.objects.get().categories) == [Category.DEMOGRAPHICS, Category.NOTES]
