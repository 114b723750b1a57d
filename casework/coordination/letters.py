"""Letters from templates: the placeholders a template may use and how they are filled, the
defaults every agency is offered, every write to templates and letters (issuing one is a
disclosure), and the issued letter as a PDF.

Agency text is never rendered by the Django template engine: a template is plain text whose
`{{ name }}` placeholders, from a fixed list, are replaced by a regular expression. Anything
else between double braces is refused when the template (or a letter) is saved, so a typo is
caught before a letter goes out with "{{ clinet_name }}" in it.

Decisions:
- Issuing a letter is a disclosure: the client's releases must cover the letter's categories
  (demographics at least) for its recipient. The check, the disclosure, the communication and
  the frozen letter are one transaction, so a refused letter stays a draft and nothing is logged.
- An agency admin adds the standard templates (data/letter_templates.json) with one click on
  the letter templates page (the demo agency has them), and may change or retire them. A
  letter never carries SUD counseling notes, which need a consent of their own.
- A letter shares its template's categories; text changed by hand is narrative about the
  client and is shared as notes too.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

from casework.clients.models import Client
from casework.clients.services import timeline_add
from casework.coordination.accounting import pdf_response
from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    categories_shared,
    disclosure_record,
    part2_texts,
)
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import (
    PART2_CATEGORIES,
    Category,
    Communication,
    Disclosure,
    Letter,
    LetterTemplate,
    Organization,
    Person,
)
from casework.coordination.models.communications import LETTER_LIMIT, TEXT_LIMIT
from casework.coordination.services_communications import (
    EntryError,
    check_recipient,
    require_coordinator,
)
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Agency, User

LETTER_START = "letter_start"  # idempotency purposes
LETTER_TEMPLATE_CREATE = "letter_template_create"
# What a letter may never carry: SUD counseling notes need a consent of their own.
LETTER_CATEGORIES = [c for c in Category.values if c != Category.SUD_COUNSELING_NOTES]
PLACEHOLDERS: dict[str, str] = {
    "client_name": "The client's legal name",
    "client_first_name": "The name the client goes by",
    "date_of_birth": "The client's date of birth (mm/dd/yyyy)",
    "today": "Today's date",
    "staff_name": "Your name",
    "staff_phone": "Your phone (the agency's when you have none)",
    "agency_name": "The agency's name",
    "recipient_name": "Who the letter is to",
}
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders in `text` that are not on the list, as typed (plus an unclosed `{{`)."""
    unknown = [
        match.group(0)
        for match in PLACEHOLDER.finditer(text)
        if match.group(1).strip() not in PLACEHOLDERS
    ]
    rest = PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        unknown.append("{{" if "{{" in rest else "}}")
    return list(dict.fromkeys(unknown))


def placeholder_problem(text: str) -> str:
    """A message naming the unknown placeholders in `text`, or "" when there are none."""
    unknown = unknown_placeholders(text)
    if not unknown:
        return ""
    known = ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
    return f"Unknown placeholder {', '.join(unknown)}. Use only: {known}."


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value; anything else is left as is."""

    def _value(match: re.Match[str]) -> str:
        return values.get(match.group(1).strip(), match.group(0))

    return PLACEHOLDER.sub(_value, text)


def recipient_name(organization: Organization | None, person: Person | None) -> str:
    if person is not None:
        return person.name
    return organization.name if organization is not None else ""


def letter_values(
    *, client: Client, by: User, recipient: str, today: datetime.date
) -> dict[str, str]:
    """What each placeholder stands for in a letter written today by `by` about `client`."""
    agency = client.agency
    assert agency is not None
    return {
        "client_name": client.legal_name,
        "client_first_name": client.preferred_name or client.legal_first_name,
        "date_of_birth": f"{client.date_of_birth:%m/%d/%Y}",
        "today": f"{today:%B} {today.day}, {today.year}",
        "staff_name": by.full_name,
        # Left visible when unknown, so the writer sees what to fill in before issuing.
        "staff_phone": by.phone or agency.phone or "[phone number]",
        "agency_name": agency.name,
        "recipient_name": recipient,
    }


@cache
def default_templates() -> tuple[dict[str, Any], ...]:
    """The letters every agency is offered (data/letter_templates.json)."""
    path = Path(__file__).parent / "data" / "letter_templates.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(data["templates"])


def letter_pdf(letter: Letter, *, user: User) -> HttpResponse:
    """An issued letter on the agency's letterhead, with the 42 CFR 2.32 notice when it
    carries Part 2 records; every download is audited as an export."""
    client = letter.client
    assert client.agency is not None and letter.issued_at is not None
    disclosure = letter.disclosure
    response = pdf_response(
        template="coordination/letter_pdf.html",
        context={
            "letter": letter,
            "client": client,
            "agency": client.agency,
            "dated": letter.issued_at.astimezone(client.agency.tzinfo).date(),
            "part2_notice": part2_texts()["notice_to_accompany_disclosure"]
            if disclosure is not None and disclosure.part2
            else "",
            "consent": disclosure.consent if disclosure is not None else None,
        },
        filename=f"letter-{client.record_number}-{letter.pk}.pdf",
    )
    if response.status_code == 200:
        audit_record(
            actor=user,
            action=Action.EXPORT,
            obj=letter,
            client_id=client.pk,
            detail={"format": "pdf"},
        )
    return response


# ---- Letter templates ----------------------------------------------------------------------


def letter_templates_seed(*, agency: Agency, by: User) -> None:
    """Add the standard letters to an agency that has no templates yet (the admin page, the demo)."""
    if LetterTemplate.objects.filter(agency=agency).exists():
        return
    with transaction.atomic():
        # The agency's row serialises two first visits, so the defaults are made once.
        list(Agency.objects.select_for_update().filter(pk=agency.pk).values_list("pk"))
        if LetterTemplate.objects.filter(agency=agency).exists():
            return
        templates = LetterTemplate.objects.bulk_create(
            LetterTemplate(
                agency=agency,
                name=default["name"],
                body=default["body"],
                categories=list(default["categories"]),
            )
            for default in default_templates()
        )
        for template in templates:
            audit_record(actor=by, action=Action.CREATE, obj=template, detail={"default": True})


@dataclass(frozen=True)
class TemplateText:
    name: str
    body: str
    categories: tuple[str, ...]
    is_active: bool = True


def letter_template_problems(text: TemplateText) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    if not text.name.strip():
        problems.append(("name", "Give the template a name."))
    elif len(text.name) > 200:
        problems.append(("name", "Keep the name under 200 characters."))
    if not text.body.strip():
        problems.append(("body", "Write the letter."))
    elif len(text.body) > LETTER_LIMIT:
        problems.append(("body", f"Keep the letter under {LETTER_LIMIT:,} characters."))
    elif message := placeholder_problem(text.body):
        problems.append(("body", message))
    categories = set(text.categories)
    if not categories <= set(LETTER_CATEGORIES):
        problems.append(
            ("categories", "A letter cannot carry SUD counseling notes; choose from the list.")
        )
    elif Category.DEMOGRAPHICS not in categories:
        problems.append(("categories", "A letter always names the client: include demographics."))
    return problems


def letter_template_save(
    *,
    by: User,
    text: TemplateText,
    template: LetterTemplate | None = None,
    submission_key: str = "",
) -> LetterTemplate:
    """Create a letter template for the agency, or change `template`."""
    if not access.may_manage_staff(by):
        raise CoordinationError("Only agency admins change letter templates.")
    agency = by.agency
    assert agency is not None
    if template is not None and template.agency_id != agency.pk:
        raise CoordinationError("This template belongs to another agency.")
    problems = letter_template_problems(text)
    if problems:
        raise EntryError(problems[0][1], problems[0][0])
    name = text.name.strip()
    with transaction.atomic():
        taken = LetterTemplate.objects.filter(agency=agency, name__iexact=name)
        if template is None:
            submission = submission_claim(
                agency=agency, by=by, purpose=LETTER_TEMPLATE_CREATE, key=submission_key
            )
            if submission.earlier_object_id is not None:
                return LetterTemplate.objects.get(pk=submission.earlier_object_id, agency=agency)
            if taken.exists():
                raise EntryError("Another template has this name; choose another.", "name")
            template = LetterTemplate.objects.create(
                agency=agency,
                name=name,
                body=text.body,
                categories=[c for c in Category.values if c in set(text.categories)],
                is_active=text.is_active,
            )
            submission_complete(submission, template.pk)
            action = Action.CREATE
        else:
            template = LetterTemplate.objects.select_for_update().get(pk=template.pk)
            if taken.exclude(pk=template.pk).exists():
                raise EntryError("Another template has this name; choose another.", "name")
            template.name = name
            template.body = text.body
            template.categories = [c for c in Category.values if c in set(text.categories)]
            template.is_active = text.is_active
            template.save(update_fields=["name", "body", "categories", "is_active"])
            action = Action.UPDATE
        audit_record(actor=by, action=action, obj=template, detail={"active": template.is_active})
    return template


# ---- Letters -------------------------------------------------------------------------------


def letter_start(
    *,
    client: Client,
    by: User,
    template: LetterTemplate,
    organization: Organization | None,
    person: Person | None,
    submission_key: str = "",
) -> Letter:
    """A draft letter to the recipient from the template, its placeholders filled in."""
    require_coordinator(by, client)
    if template.agency_id != client.agency_id or not template.is_active:
        raise EntryError("Choose one of your agency's letter templates.", "template")
    if organization is None and person is None:
        raise EntryError("Choose who the letter is to.", "organization")
    check_recipient(organization, person, client.agency_id)
    assert client.agency is not None
    values = letter_values(
        client=client,
        by=by,
        recipient=recipient_name(organization, person),
        today=client.agency.today(),
    )
    with transaction.atomic():
        submission = submission_claim(
            agency=client.agency, by=by, purpose=LETTER_START, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(Letter, submission.earlier_object_id, client=client)
        letter = Letter.objects.create(
            agency_id=client.agency_id,
            client=client,
            template=template,
            organization=organization,
            person=person,
            subject=f"{template.name} — {client.legal_name}"[:200],
            body=fill(template.body, values),
            categories=list(template.categories),
            written_by=by,
        )
        submission_complete(submission, letter.pk)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=letter,
            client_id=client.pk,
            detail={"template": template.pk},
        )
    return letter


def letter_save(*, letter: Letter, by: User, subject: str, body: str) -> Letter:
    """Change a draft's subject and text; placeholders typed into it are filled in too."""
    client = letter.client
    require_coordinator(by, client)
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise EntryError("Give the letter a subject.", "subject")
    if len(subject) > 200:
        raise EntryError("Keep the subject under 200 characters.", "subject")
    if not body:
        raise EntryError("Write the letter.", "body")
    if len(body) > LETTER_LIMIT:
        raise EntryError(f"Keep the letter under {LETTER_LIMIT:,} characters.", "body")
    for field, text in (("subject", subject), ("body", body)):
        if message := placeholder_problem(text):
            raise EntryError(message, field)
    assert client.agency is not None
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        if locked.issued_at is not None:
            raise EntryError("This letter was issued and is kept as sent; write a new one.")
        values = letter_values(
            client=client,
            by=by,
            recipient=recipient_name(letter.organization, letter.person),
            today=client.agency.today(),
        )
        written = fill(body, values)
        if written != locked.body and Category.NOTES not in locked.categories:
            # Text written by hand says something about the client's care: it goes out as
            # narrative, which the recipient's release must cover (and, for a client of a
            # Part 2 program, a Part 2 consent).
            locked.categories = [*locked.categories, Category.NOTES]
        locked.subject, locked.body = fill(subject, values), written
        locked.save(update_fields=["subject", "body", "categories"])
        audit_record(actor=by, action=Action.UPDATE, obj=locked, client_id=client.pk)
    return locked


def letter_part2(letter: Letter) -> bool:
    """Whether the letter, once issued, carries 42 CFR Part 2 records (and so their notice)."""
    shared = categories_shared(client=letter.client, categories=letter.categories)
    return bool(PART2_CATEGORIES & shared)


def letter_issue(*, letter: Letter, by: User) -> Letter:
    """Send the letter: check the releases and log the disclosure, log the letter as a
    communication and freeze it. Refused (no release covers it): nothing changes."""
    client = letter.client
    require_coordinator(by, client)
    with transaction.atomic():
        locked = (
            Letter.objects.select_for_update(of=("self",))
            .select_related("organization", "person")
            .get(pk=letter.pk)
        )
        if locked.issued_at is not None:
            return locked  # a second click, another tab
        if locked.organization is None and locked.person is None:
            raise EntryError("Choose who the letter is to.")
        sharing = Sharing(
            client=client,
            categories=categories_shared(
                client=client, categories={Category.DEMOGRAPHICS, *locked.categories}
            ),
            organization=locked.organization,
            person=locked.person,
        )
        try:
            disclosure = disclosure_record(
                sharing=sharing,
                logged=Logged(
                    channel=Disclosure.Channel.LETTER,
                    description=f"Letter: {locked.subject}"[:300],
                    object_type="coordination.letter",
                    object_id=str(locked.pk),
                ),
                by=by,
            )
        except DisclosureRefused as refusal:
            raise CoordinationError(f"The letter was not issued. {refusal}") from refusal
        now = timezone.now()
        communication = Communication.objects.create(
            agency_id=client.agency_id,
            client=client,
            occurred_at=now,
            channel=Communication.Channel.LETTER,
            direction=Communication.Direction.OUTGOING,
            organization=locked.organization,
            person=locked.person,
            with_role=locked.person.role if locked.person is not None else Person.Role.OTHER,
            summary=f"Letter sent: {locked.subject}"[:TEXT_LIMIT],
            staff=by,
        )
        locked.issued_at = now
        locked.disclosure = disclosure
        locked.communication = communication
        locked.save(update_fields=["issued_at", "disclosure", "communication"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=client.pk,
            detail={"issued": True, "disclosure": disclosure.pk},
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=communication,
            client_id=client.pk,
            detail={"channel": Communication.Channel.LETTER},
        )
        timeline_add(client=client, kind="letter", summary="Letter issued", actor=by)
    return locked
