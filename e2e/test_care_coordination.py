"""Care coordination in the browser ("done when"): a case manager records a release for the
client's psychiatrist, uploads two documents (one a 42 CFR Part 2 record), builds a referral
packet with both → sending is refused because of the Part 2 record and nothing goes out → a Part 2
consent is recorded → the packet is sent, its PDF carries the summary and the § 2.32 notice →
the accounting of disclosures lists it. Then axe on the coordination pages, three of them on a
360 px phone, and a contact logged with the keyboard alone."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from casework.coordination import services_collaboration as collaboration
from casework.coordination.models import (
    Category,
    Communication,
    Consent,
    Disclosure,
    Document,
    Organization,
    Person,
    Referral,
)
from casework.coordination.services_communications import NewCommunication, communication_log
from casework.coordination.services_referrals import (
    PacketChoice,
    ReferralDetails,
    referral_create,
    referral_packet_save,
)
from casework.testing.coordination import (
    TINY_PDF,
    OrganizationFactory,
    PersonFactory,
    document,
    release,
)
from casework.testing.factories import PASSWORD, ClientFactory, assign
from casework.testing.personas import Cast, build_cast
from e2e.test_accessibility import audit
from e2e.test_phone import PHONE

CLINIC = "Cascade Psychiatric Associates"
CLINIC_ADDRESS = "410 Pacific Ave, Tacoma, WA"
PSYCHIATRIST = "Dr. Ruth Okafor"
# How the directory's people are offered in the release and referral forms.
PSYCHIATRIST_CHOICE = f"{PSYCHIATRIST} (Psychiatrist or prescriber, {CLINIC})"
RECIPIENT = f"{PSYCHIATRIST}, {CLINIC}"  # as releases and disclosures name them
TREATMENT = "Treatment and care coordination"
DEMOGRAPHICS = "Demographics and contact details"
DIAGNOSES = "Diagnoses and medications"
DOCUMENTS = "Uploaded documents"
NOTES = "Service notes and other narrative (referral reasons, summaries, letters)"
SUBSTANCE_USE = "Substance-use treatment records (42 CFR Part 2)"
DISCHARGE = "Discharge summary, St. Joseph"
DETOX = "Detox program discharge"
PART2_BOX = "42 CFR Part 2 record (from a substance-use treatment program)"
REASON = "Medication management closer to home; her current prescriber is retiring."
SUMMARY = (
    "María has been stable on her current medication for six months. She asks for a "
    "psychiatric follow-up closer to her apartment."
)
CALL_SUMMARY = "Talked through the referral; they can see her within two weeks."
SIGNED_HERE = "The client (or their representative) signed it on this screen"


@dataclass
class Directory:
    clinic: Organization
    psychiatrist: Person


def psychiatrist_at_clinic(cast: Cast) -> Directory:
    clinic = OrganizationFactory.create(agency=cast.agency, name=CLINIC, address=CLINIC_ADDRESS)
    return Directory(
        clinic=clinic,
        psychiatrist=PersonFactory.create(
            agency=cast.agency, name=PSYCHIATRIST, organization=clinic
        ),
    )


def us(day: datetime.date) -> str:
    return f"{day:%m/%d/%Y}"


def chart(cast: Cast, rest: str = "") -> str:
    return f"/clients/{cast.client.pk}/{rest}"


def from_chart(page: Any, cast: Cast, section: str) -> None:
    """Open one of the chart's care-coordination sections, as a case manager would."""
    if not re.search(rf"/clients/{cast.client.pk}/$", page.url):
        page.goto(chart(cast))
    expect(page.get_by_role("heading", level=1)).to_contain_text(cast.client.display_name)
    page.get_by_role("region", name="Care coordination").get_by_role(
        "link", name=section, exact=True
    ).click()


def pdf_text(data: bytes) -> str:
    """Every page's text, with runs of white space (line breaks of the layout) as one space."""
    assert data.startswith(b"%PDF"), data[:20]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def downloaded(page: Any, link: Any) -> tuple[str, bytes]:
    """Click the link, wait for the browser's download, return the file's name and bytes."""
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    return download.suggested_filename, Path(download.path()).read_bytes()


# ------------------------------------------------------------------------------- the steps


def record_release(
    page: Any, cast: Cast, *, categories: list[str], expires: datetime.date
) -> Consent:
    """From the client's releases: a release to the psychiatrist for treatment, signed on
    screen (the client's name typed and the confirmation ticked)."""
    from_chart(page, cast, "Releases of information")
    expect(page.get_by_role("heading", level=2, name="Releases of information")).to_be_visible()
    page.get_by_role("link", name="Record a release").click()
    expect(
        page.get_by_role("heading", level=2, name="Record a release of information")
    ).to_be_visible()
    before = set(Consent.objects.filter(client=cast.client).values_list("pk", flat=True))

    who = page.get_by_role("group", name="Who may receive it")
    who.get_by_label(re.compile(r"^Organisation")).select_option(label=CLINIC)
    who.get_by_label(re.compile(r"^Person")).select_option(label=PSYCHIATRIST_CHOICE)
    page.get_by_label("Purpose", exact=True).select_option(label=TREATMENT)
    what = page.get_by_role("group", name="What may be shared")
    for label in categories:
        what.get_by_label(label, exact=True).check()
    today = cast.agency.today()
    expect(page.get_by_label("Starts on")).to_have_value(today.isoformat())
    page.get_by_label(re.compile(r"^Ends on")).fill(expires.isoformat())
    signature = page.get_by_role("group", name="Signature")
    signature.get_by_role("group", name="How it was signed").get_by_label(
        "Signed on screen"
    ).check()
    signature.get_by_label("Name of the person who signed").fill(cast.client.legal_name)
    expect(signature.get_by_label("Signed on", exact=True)).to_have_value(today.isoformat())
    signature.get_by_label(SIGNED_HERE).check()
    page.get_by_role("button", name="Record the release").click()

    expect(page.get_by_role("status").filter(has_text="Release recorded.")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=f"Release to {RECIPIENT}")).to_be_visible()
    consent = Consent.objects.exclude(pk__in=before).get(client=cast.client)
    expect(page).to_have_url(re.compile(rf"/releases/{consent.pk}/$"))
    assert consent.person is not None and consent.person.name == PSYCHIATRIST
    assert consent.organization is not None and consent.organization.name == CLINIC
    assert consent.signed_how == Consent.SignedHow.ON_SCREEN
    assert consent.signed_by_name == cast.client.legal_name
    assert (consent.starts_on, consent.expires_on) == (today, expires)
    return consent


def upload(page: Any, cast: Cast, *, title: str, kind: str, name: str, part2: bool) -> Document:
    from_chart(page, cast, "Documents")
    page.get_by_role("link", name="Add a document").click()
    expect(page.get_by_role("heading", level=2, name="Add a document")).to_be_visible()
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": TINY_PDF}]
    )
    page.get_by_label("What kind of document").select_option(label=kind)
    page.get_by_label("Title", exact=True).fill(title)
    expect(page.get_by_label("Date on the document")).to_have_value(cast.agency.today().isoformat())
    if part2:
        page.get_by_label(PART2_BOX).check()
    page.get_by_role("button", name="Add the document").click()
    expect(
        page.get_by_role("status").filter(has_text="Document added to the chart.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile(re.escape(title)))).to_be_visible()
    added = Document.objects.get(client=cast.client, title=title)
    assert (added.part2, added.original_name, added.size) == (part2, name, len(TINY_PDF))
    return added


def document_choice(added: Document) -> str:
    """How the packet form offers a document."""
    label = f"{added.title} ({added.get_kind_display()}, {us(added.dated_on)})"
    return label + (" · 42 CFR Part 2 record" if added.part2 else "")


def start_referral(page: Any, cast: Cast) -> Referral:
    from_chart(page, cast, "Referrals")
    page.get_by_role("link", name="Refer to a resource").click()
    expect(page.get_by_role("heading", level=2, name="Refer to a resource")).to_be_visible()
    page.get_by_label("Refer to").select_option(label=f"{CLINIC}, {CLINIC_ADDRESS}")
    page.get_by_label(re.compile(r"^To the attention of")).select_option(label=PSYCHIATRIST_CHOICE)
    page.get_by_label("Why you are referring them").fill(REASON)
    expect(
        page.get_by_role("group", name="How soon").get_by_label("Routine", exact=True)
    ).to_be_checked()
    page.get_by_role("button", name="Start the referral").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Referral to {CLINIC} started.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=f"The packet for {CLINIC}")).to_be_visible()
    referral = Referral.objects.get(client=cast.client)
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/packet/$"))
    return referral


def send_packet(page: Any) -> None:
    page.get_by_role("group", name="Send it").get_by_label("How you are sending it").select_option(
        label="Secure email"
    )
    page.get_by_role("button", name="Send the packet").click()


def test_a_part2_record_waits_for_its_consent_then_the_packet_goes_and_is_accounted_for(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    found = psychiatrist_at_clinic(cast)
    today = cast.agency.today()
    sign_in(page, cast.case_manager.email, PASSWORD)

    # A release for the psychiatrist: treatment; demographics, diagnoses, narrative (the
    # referral's reason and summary) and documents.
    first = record_release(
        page,
        cast,
        categories=[DEMOGRAPHICS, DIAGNOSES, NOTES, DOCUMENTS],
        expires=today + datetime.timedelta(days=365),
    )
    assert first.person_id == found.psychiatrist.pk and not first.is_part2
    assert set(first.categories) == {
        Category.DEMOGRAPHICS,
        Category.DIAGNOSES,
        Category.NOTES,
        Category.DOCUMENTS,
    }
    page.get_by_role("link", name="Releases of information").click()
    in_force = page.get_by_role("table", name=re.compile(r"^Releases in force"))
    expect(in_force.get_by_role("link", name=RECIPIENT)).to_be_visible()

    # Two documents: an ordinary PDF, and one marked 42 CFR Part 2.
    discharge = upload(
        page,
        cast,
        title=DISCHARGE,
        kind="Hospital discharge summary",
        name="discharge.pdf",
        part2=False,
    )
    detox = upload(
        page,
        cast,
        title=DETOX,
        kind="Medical record from another provider",
        name="detox.pdf",
        part2=True,
    )
    page.get_by_role("link", name="Documents", exact=True).click()
    listed = page.get_by_role("table", name="Documents in the chart, newest first")
    expect(listed.get_by_role("row").filter(has_text=DETOX)).to_contain_text("Part 2")
    expect(listed.get_by_role("row").filter(has_text=DISCHARGE)).not_to_contain_text("Part 2")

    # The referral and its packet: both documents and a summary. Sending is refused.
    referral = start_referral(page, cast)
    page.get_by_role("group", name=re.compile(r"^Parts of the chart")).get_by_label(
        DEMOGRAPHICS, exact=True
    ).check()
    attach = page.get_by_role("group", name=re.compile(r"^Documents to attach"))
    attach.get_by_label(document_choice(discharge), exact=True).check()
    attach.get_by_label(document_choice(detox), exact=True).check()
    page.get_by_label(re.compile(r"^Summary for the receiving provider")).fill(SUMMARY)
    send_packet(page)

    refused = page.get_by_role("alert").filter(has_text="Not sent")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("42 CFR Part 2")
    expect(refused).to_contain_text(f"No release in force lets us share {SUBSTANCE_USE}")
    expect(refused).to_contain_text("Record a 42 CFR Part 2 consent that names them.")
    expect(refused).to_contain_text("Nothing was shared and nothing was logged.")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DRAFT
    assert not referral.packet_file and referral.disclosure_id is None and referral.sent_at is None
    assert not Disclosure.objects.filter(client=cast.client).exists()
    # The choice is kept, to send once the consent is there.
    assert set(referral.packet_documents.all()) == {discharge, detox}
    assert referral.packet_summary == SUMMARY
    expect(attach.get_by_label(document_choice(detox), exact=True)).to_be_checked()
    refused.get_by_role("link", name="the chart").click()
    from_chart(page, cast, "Referrals")
    listed_referral = page.get_by_role("row").filter(has=page.get_by_role("link", name=CLINIC))
    expect(listed_referral).to_contain_text("Being prepared")
    expect(listed_referral).to_contain_text("not yet")
    listed_referral.get_by_role("link", name=CLINIC).click()
    expect(page.get_by_role("heading", level=2, name=f"Referral to {CLINIC}")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("Being prepared")
    expect(page.get_by_role("link", name="Download the packet (PDF)")).to_have_count(0)

    # The Part 2 consent for the same recipient.
    part2 = record_release(
        page, cast, categories=[SUBSTANCE_USE], expires=today + datetime.timedelta(days=180)
    )
    assert part2.is_part2 and part2.categories == [Category.SUBSTANCE_USE]
    expect(page.get_by_text("42 CFR Part 2", exact=True).first).to_be_visible()

    # Send again: it goes.
    from_chart(page, cast, "Referrals")
    page.get_by_role("link", name=CLINIC, exact=True).click()
    page.get_by_role("link", name="Build and send the packet").click()
    expect(page.get_by_label(re.compile(r"^Summary for the receiving provider"))).to_have_value(
        SUMMARY
    )
    expect(
        page.get_by_role("group", name=re.compile(r"^Documents to attach")).get_by_label(
            document_choice(detox), exact=True
        )
    ).to_be_checked()
    send_packet(page)
    expect(page.get_by_role("status").filter(has_text=f"Sent to {CLINIC}.")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=f"Referral to {CLINIC}")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("by secure email")
    expect(page.locator("dl.facts")).to_contain_text("includes Part 2 records")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SENT and referral.packet_file
    disclosure = Disclosure.objects.get(client=cast.client)
    assert disclosure.part2 and disclosure.recipient_name == RECIPIENT
    assert {disclosure.consent_id, *disclosure.also_under} == {first.pk, part2.pk}

    name, packet = downloaded(page, page.get_by_role("link", name="Download the packet (PDF)"))
    assert name == f"referral-{cast.client.record_number}-{referral.pk}.pdf", name
    text = pdf_text(packet)
    assert SUMMARY in text, text
    assert "42 CFR part 2" in text, text
    assert "Notice to accompany disclosure (42 CFR § 2.32)" in text, text
    assert len(PdfReader(io.BytesIO(packet)).pages) >= 3  # the cover, then the two documents

    # The accounting of disclosures, one click from the releases.
    from_chart(page, cast, "Releases of information")
    page.get_by_role("link", name="Accounting of disclosures").click()
    expect(page.get_by_role("heading", level=2, name="Accounting of disclosures")).to_be_visible()
    rows = page.get_by_role("table", name=re.compile(r"^Disclosures from")).locator("tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row.get_by_role("cell").nth(1)).to_have_text(RECIPIENT)
    expect(row).to_contain_text("Referral packet")
    expect(row).to_contain_text("(42 CFR Part 2)")
    expect(row).to_contain_text(cast.case_manager.full_name)
    expect(row.get_by_role("link", name=f"Release {part2.pk}")).to_be_visible()
    expect(row.get_by_role("link", name=f"Release {first.pk}")).to_be_visible()

    pdf_link = page.get_by_role("link", name="PDF for the client")
    pdf_link_href = chart(cast, "disclosures.pdf")
    expect(pdf_link).to_have_attribute("href", pdf_link_href)
    # Served inline: the click opens it in the browser's PDF viewer, not as a download.
    with page.expect_response(re.compile(r"/disclosures\.pdf$")) as opened:
        pdf_link.click()
    response = opened.value
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    assert "disclosures-" in response.headers["content-disposition"]
    expect(page).to_have_url(re.compile(r"/disclosures\.pdf$"))
    # The viewer stands in for the body here; the file itself, with the same session:
    fetched = page.request.get(pdf_link_href)
    assert fetched.ok and fetched.headers["content-type"] == "application/pdf", fetched.status
    accounting = pdf_text(fetched.body())
    assert RECIPIENT in accounting, accounting
    assert "Referral packet" in accounting, accounting


# ----------------------------------------------------------------- accessibility, phone, keyboard


@dataclass
class Scene:
    cast: Cast
    directory: Directory
    referral: Referral
    handoff_id: int


def coordination_scene() -> Scene:
    """Through the services: a release, two documents (one Part 2), a referral whose packet
    carries both (so it cannot go yet), a contact logged, a comment mentioning the case manager,
    cover for a colleague and a hand-off to the case manager."""
    cast = build_cast()
    found = psychiatrist_at_clinic(cast)
    today = cast.agency.today()
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=found.clinic,
        person=found.psychiatrist,
    )
    ordinary = document(client=cast.client, by=cast.case_manager, title=DISCHARGE)
    part2 = document(
        client=cast.client,
        by=cast.case_manager,
        title=DETOX,
        kind=Document.Kind.MEDICAL_RECORD,
        part2=True,
        name="detox.pdf",
    )
    referral = referral_create(
        client=cast.client,
        by=cast.case_manager,
        details=ReferralDetails(
            organization=found.clinic,
            person=found.psychiatrist,
            reason=REASON,
            urgency=Referral.Urgency.ROUTINE,
            follow_up_on=today + datetime.timedelta(days=7),
        ),
    )
    referral = referral_packet_save(
        referral=referral,
        by=cast.case_manager,
        expected_version=referral.version,
        packet=PacketChoice(
            summary=SUMMARY, sections=(Category.DEMOGRAPHICS,), documents=(ordinary, part2)
        ),
    )
    communication_log(
        client=cast.client,
        by=cast.case_manager,
        entry=NewCommunication(
            occurred_at=datetime.datetime.now(tz=cast.agency.tzinfo) - datetime.timedelta(hours=2),
            channel=Communication.Channel.CALL,
            direction=Communication.Direction.INCOMING,
            person=found.psychiatrist,
            organization=found.clinic,
            minutes=10,
            summary="Asked for the latest medication list.",
        ),
    )
    collaboration.comment_post(
        client=cast.client,
        by=cast.colleague,
        body="@cm the clinic called back about the referral, see the communications.",
    )
    now = datetime.datetime.now(tz=cast.agency.tzinfo)
    collaboration.coverage_create(
        absent=cast.colleague,
        covering=cast.case_manager,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=5),
        by=cast.supervisor,
        reason="Training",
    )
    handed = ClientFactory.create(
        agency=cast.agency,
        legal_first_name="Tomás",
        legal_last_name="Reyes",
        created_by=cast.colleague,
    )
    assign(handed, cast.colleague, start_on=today - datetime.timedelta(days=10))
    handoff = collaboration.handoff_create(
        from_staff=cast.colleague,
        to_staff=cast.case_manager,
        clients=[handed],
        effective_on=today,
        by=cast.colleague,
        message="He prefers morning calls.",
    )
    return Scene(cast=cast, directory=found, referral=referral, handoff_id=handoff.pk)


def test_the_coordination_pages_have_no_serious_accessibility_problems(
    page: Any, sign_in: Callable[..., None]
) -> None:
    scene = coordination_scene()
    cast, referral = scene.cast, scene.referral
    problems: list[str] = []
    sign_in(page, cast.case_manager.email, PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_contain_text(cast.case_manager.first_name)
    expect(
        page.get_by_text(f"{cast.colleague.full_name} mentioned you on", exact=False).first
    ).to_be_visible()
    problems += audit(page, "My day with a mention")

    pages: list[tuple[str, str, str]] = [
        (chart(cast, "releases/"), "releases", "Releases of information"),
        (chart(cast, "releases/new/"), "release form", "Record a release of information"),
        (chart(cast, "documents/"), "documents", "Documents"),
        (chart(cast, "documents/new/"), "document upload", "Add a document"),
        (chart(cast, f"referrals/{referral.pk}/"), "referral", f"Referral to {CLINIC}"),
        (chart(cast, f"referrals/{referral.pk}/packet/"), "packet", f"The packet for {CLINIC}"),
        (chart(cast, "communications/"), "communications", "Communications"),
        (chart(cast, "communications/new/"), "log a contact", "Log a contact"),
        (chart(cast, "disclosures/"), "accounting of disclosures", "Accounting of disclosures"),
        (chart(cast, "comments/"), "comments", "Team comments"),
    ]
    for path, name, heading in pages:
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
        problems += audit(page, name)

    # The packet as chosen cannot go yet: the refusal shown before and after pressing Send.
    page.goto(chart(cast, f"referrals/{referral.pk}/packet/"))
    expect(page.get_by_role("status").filter(has_text="cannot be sent yet")).to_contain_text(
        "42 CFR Part 2"
    )
    send_packet(page)
    expect(page.get_by_role("alert").filter(has_text="Not sent")).to_be_visible()
    problems += audit(page, "packet, sending refused")

    # The release form refused (nothing chosen).
    page.goto(chart(cast, "releases/new/"))
    page.get_by_role("button", name="Record the release").click()
    expect(page.get_by_role("alert").first).to_contain_text("Please fix")
    problems += audit(page, "release form with errors")

    page.goto(f"/directory/?q={CLINIC.split()[0]}")
    expect(page.get_by_role("link", name=CLINIC)).to_be_visible()
    problems += audit(page, "directory search")

    for path, name, heading in [
        ("/team/coverage/", "cover while away", "Cover while away"),
        ("/team/coverage/new/", "arrange cover", "Arrange cover"),
        ("/team/handoffs/", "hand-offs", "Hand-offs"),
        (
            "/team/handoffs/new/",
            "hand off clients",
            f"Hand off {cast.case_manager.full_name}'s clients",
        ),
        (
            f"/team/handoffs/{scene.handoff_id}/",
            "a hand-off to acknowledge",
            f"Hand-off from {cast.colleague.full_name} to {cast.case_manager.full_name}",
        ),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        problems += audit(page, name)

    assert not problems, "\n".join(problems)


def assert_fits(page: Any, what: str) -> None:
    """No sideways scrolling: the page is no wider than the window."""
    scroll_width, inner_width, overflowing = page.evaluate(
        """() => [document.scrollingElement.scrollWidth, window.innerWidth,
            [...document.querySelectorAll("body *")]
              .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 5)
              .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                   + (typeof e.className === "string" && e.className ? "." + e.className : ""))]"""
    )
    assert scroll_width <= inner_width, (
        f"{what} scrolls sideways at {inner_width} px ({scroll_width} px wide): {overflowing}"
    )


def test_the_release_form_the_packet_and_the_documents_fit_a_phone(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    scene = coordination_scene()
    cast, referral = scene.cast, scene.referral
    page = new_page(**PHONE)
    sign_in(page, cast.case_manager.email, PASSWORD)

    page.goto(chart(cast, "releases/new/"))
    expect(
        page.get_by_role("heading", level=2, name="Record a release of information")
    ).to_be_visible()
    assert_fits(page, "the release form")
    page.get_by_role("button", name="Record the release").click()
    expect(page.get_by_role("alert").first).to_contain_text("Please fix")
    assert_fits(page, "the release form with its errors")

    page.goto(chart(cast, f"referrals/{referral.pk}/packet/"))
    expect(page.get_by_role("heading", level=2, name=f"The packet for {CLINIC}")).to_be_visible()
    assert_fits(page, "the packet")

    page.goto(chart(cast, "documents/"))
    expect(page.get_by_role("link", name=DETOX)).to_be_visible()
    assert_fits(page, "the documents list")


def tab_to(page: Any, target: Any, what: str, most: int = 80) -> None:
    """Press Tab until `target` has the focus (as someone without a mouse would)."""
    for _ in range(most):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{most} presses of Tab never reached {what}")


def test_a_call_with_the_psychiatrist_is_logged_with_the_keyboard_alone(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    psychiatrist_at_clinic(cast)
    sign_in(page, cast.case_manager.email, PASSWORD)
    page.goto(chart(cast, "communications/"))
    expect(page.get_by_text("No contacts logged yet.")).to_be_visible()
    keyboard = page.keyboard

    tab_to(page, page.get_by_role("link", name="Log a contact"), "the Log a contact link")
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="Log a contact")).to_be_visible()

    minutes = page.get_by_label(re.compile(r"^Minutes"))
    tab_to(page, minutes, "Minutes")
    keyboard.type("15")
    how = page.get_by_label("How", exact=True)
    tab_to(page, how, "How")
    keyboard.type("Ph")  # the select's type-ahead: "Phone call"
    expect(how.locator("option:checked")).to_have_text("Phone call")
    expect(
        page.get_by_role("group", name="Who reached out").get_by_label("We contacted them")
    ).to_be_checked()
    person = page.get_by_label(re.compile(r"^Person"))
    tab_to(page, person, "Person")
    keyboard.type("Dr")
    expect(person.locator("option:checked")).to_have_text(PSYCHIATRIST_CHOICE)
    summary = page.get_by_label("What was discussed")
    tab_to(page, summary, "What was discussed")
    keyboard.type(CALL_SUMMARY)
    outcome = page.get_by_label(re.compile(r"^Outcome"))
    tab_to(page, outcome, "Outcome")
    keyboard.type("Intake booked")
    tab_to(page, page.get_by_role("button", name="Log the contact"), "the Log the contact button")
    keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="Contact logged.")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Communications")).to_be_visible()
    rows = page.get_by_role("table", name="Contacts about the client, newest first").locator(
        "tbody tr"
    )
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(PSYCHIATRIST)
    expect(rows.first).to_contain_text("Phone call")
    expect(rows.first).to_contain_text("We contacted them")
    expect(rows.first).to_contain_text(CALL_SUMMARY)
    expect(rows.first).to_contain_text("Outcome: Intake booked")
    expect(rows.first).to_contain_text("15 min")
    logged = Communication.objects.get(client=cast.client)
    assert logged.channel == Communication.Channel.CALL and logged.minutes == 15
    assert logged.person is not None and logged.person.name == PSYCHIATRIST
