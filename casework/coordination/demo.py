"""Demo care coordination: the directory, releases, documents, referrals, contacts and teamwork.

Made for the demo agency after its clients exist (`clients.demo.seed_demo`), from the demo's
seeded random and its "today" only. What a case manager meets on a Monday: the psychiatrists,
pharmacies and landlords of their clients in the directory; releases of information for about
a third of the caseload, two of them running out within 30 days (My day lists them) and one
revoked; a few scanned documents; referrals at every stage, their packets logged as
disclosures; a prior authorization waiting for the plan; calls with prescribers, pharmacists
and landlords; @mentions on charts; and a colleague covering for someone away this week.

Everything is invented (no real clinic, company or person): 555-01xx phone numbers and
example.org addresses. Services are used where the record is made as anyone would make it
today; history they refuse (a referral sent last month, its disclosure dated when it was
sent, cover that started on Monday) is written directly, with its audit entry, as the other
demo modules do.
"""

from __future__ import annotations

import datetime
import io
import json
import random
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from casework.billing.models import Payer, ServiceCode
from casework.clients.models import (
    CareTeamMember,
    Client,
    Diagnosis,
    Episode,
    Identifier,
    Medication,
)
from casework.clients.models import Coverage as ClientCoverage
from casework.coordination import services_collaboration, services_consents, services_directory
from casework.coordination.disclosure import (
    CLINICAL_CATEGORIES,
    Logged,
    Sharing,
    categories_shared,
    disclosure_record,
)
from casework.coordination.letters import letter_templates_seed
from casework.coordination.models import (
    Category,
    ChartComment,
    Consent,
    Coverage,
    Disclosure,
    Document,
    Organization,
    Person,
    PriorAuthRequest,
    Purpose,
    Referral,
    ReferralEvent,
)
from casework.coordination.services_communications import NewCommunication, communication_log
from casework.coordination.services_documents import document_upload
from casework.coordination.services_prior_auth import (
    PriorAuthDetails,
    PriorAuthStep,
    prior_auth_create,
    prior_auth_status_change,
)
from casework.core.audit import Action, audit_record
from casework.core.models import Agency, User
from casework.worklist.models import Task
from casework.worklist.services import task_create

DATA = Path(__file__).resolve().parent / "data" / "demo_directory.json"
CHART = (Category.DEMOGRAPHICS, Category.DIAGNOSES, Category.NOTES, Category.PLANS)
RELEASE_DAYS = 365
PLAN_ORGANIZATIONS = {
    "Evergreen Apple Health Plan (demo)": "evergreen_plan",
    "Puget Community Health Plan (demo)": "puget_plan",
}
SAMPLE = "SYNTHETIC DEMO DOCUMENT - NOT A REAL RECORD"


@dataclass
class DemoCoordination:
    """What was made, for the tests and anyone curious."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    releases: list[Consent] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    communications: int = 0
    comments: list[ChartComment] = field(default_factory=list)
    coverage: Coverage | None = None


@dataclass
class Facts:
    """What the demo needs to know about one client to make their coordination believable."""

    client: Client
    manager: User
    part2: bool = False
    payer: str = ""
    prescriber: str = ""  # a person key of the directory
    medication: str = ""
    substance_use: bool = False
    member_id: str = ""

    @property
    def first(self) -> str:
        return self.client.preferred_name or self.client.legal_first_name


@dataclass
class ReleasePlan:
    facts: Facts
    organization: str | None
    person: str | None
    purpose: str
    categories: tuple[str, ...]
    starts_on: datetime.date
    expires_on: datetime.date | None = None
    all_future: bool = False
    purpose_detail: str = ""
    kind: str = ""  # prescriber, primary, landlord, plan: how the rest of the demo finds it
    paper: bool = False
    revoked_on: datetime.date | None = None


class _Demo:
    """One run: the agency, its staff by login name, the demo's today and its own random."""

    def __init__(
        self, agency: Agency, staff: list[User], today: datetime.date, rng: random.Random
    ) -> None:
        self.agency = agency
        self.today = today
        self.rng = rng
        self.tz = agency.tzinfo
        self.staff = {user.email.split("@", 1)[0]: user for user in staff}
        self.admin = self.staff["admin"]
        self.made = DemoCoordination()
        self.key_of: dict[int, str] = {}  # organisation id -> its key in the data file
        self.services_of: dict[int, set[str]] = {}

    # ---- dates --------------------------------------------------------------------------

    def day(self, offset: int) -> datetime.date:
        return self.today + datetime.timedelta(days=offset)

    def at(self, offset: int, hour: int, minute: int = 0) -> datetime.datetime:
        return datetime.datetime.combine(
            self.day(offset), datetime.time(hour, minute), tzinfo=self.tz
        )

    def org(self, key: str | None) -> Organization | None:
        return self.made.organizations[key] if key else None

    def person(self, key: str | None) -> Person | None:
        return self.made.people[key] if key else None


def seed_coordination(
    *, agency: Agency, staff: list[User], today: datetime.date, rng: random.Random
) -> DemoCoordination:
    """Create the demo agency's care coordination (after its clients, notes and schedule)."""
    # One draw from the demo's random seeds this module's own, so what is made here never
    # shifts what a module seeded after it draws.
    own = random.Random(rng.getrandbits(64))  # noqa: S311 - demo data, not secrets
    demo = _Demo(agency, staff, today, own)
    data = json.loads(DATA.read_text(encoding="utf-8"))
    with transaction.atomic():
        _seed_directory(demo, data)
        letter_templates_seed(agency=agency, by=demo.admin)
        facts = _client_facts(demo, data["prescribers"])
        if facts:
            pool = _release_pool(demo, facts)
            _seed_releases(demo, _release_plans(demo, pool))
            _seed_documents(demo, pool)
            _seed_referrals(demo, facts)
            _seed_prior_auth(demo, pool)
            _seed_communications(demo, pool)
            _seed_comments(demo, facts)
        _seed_coverage(demo)
    return demo.made


# ---- the directory ------------------------------------------------------------------------


def _seed_directory(demo: _Demo, data: dict[str, Any]) -> None:
    for entry in data["organizations"]:
        demo.made.organizations[entry["key"]] = services_directory.organization_create(
            by=demo.admin,
            details=services_directory.OrganizationDetails(
                name=entry["name"],
                service_types=tuple(entry["services"]),
                address=entry["address"],
                phone=entry["phone"],
                fax=entry["fax"],
                email=entry["email"],
                website=entry["website"],
                hours=entry["hours"],
                eligibility=entry["eligibility"],
                languages=entry["languages"],
                accepting_referrals=entry["accepting_referrals"],
                is_covered_entity=entry["is_covered_entity"],
            ),
        )
        organization = demo.made.organizations[entry["key"]]
        demo.key_of[organization.pk] = entry["key"]
        demo.services_of[organization.pk] = set(entry["services"])
    for entry in data["people"]:
        demo.made.people[entry["key"]] = services_directory.person_create(
            by=demo.admin,
            details=services_directory.PersonDetails(
                name=entry["name"],
                role=entry["role"],
                organization=demo.org(entry["organization"]),
                phone=entry["phone"],
                email=entry["email"],
            ),
        )


# ---- the clients --------------------------------------------------------------------------


def _client_facts(demo: _Demo, prescribers: dict[str, str]) -> list[Facts]:
    """Every client with a primary case manager, in the order they were made (a few queries)."""
    agency = demo.agency
    members = (
        CareTeamMember.objects.filter(
            agency=agency, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
        )
        .select_related("client__agency", "staff__agency")
        .order_by("client_id")
    )
    facts = {m.client_id: Facts(client=m.client, manager=m.staff) for m in members}
    part2 = set(
        Episode.objects.filter(agency=agency, program__is_part2=True).values_list(
            "client_id", flat=True
        )
    )
    for client_id in part2 & facts.keys():
        facts[client_id].part2 = True
    for client_id, name in (
        Medication.objects.filter(agency=agency).order_by("-id").values_list("client_id", "name")
    ):
        if client_id in facts:
            facts[client_id].medication = name  # the first one wins: read newest first
    for client_id, prescriber in (
        Medication.objects.filter(agency=agency)
        .order_by("-id")
        .values_list("client_id", "prescriber")
    ):
        if client_id in facts:
            facts[client_id].prescriber = prescribers.get(prescriber, "rivera")
    for client_id in Diagnosis.objects.filter(agency=agency, code__startswith="F1").values_list(
        "client_id", flat=True
    ):
        if client_id in facts:
            facts[client_id].substance_use = True
    for client_id, payer in ClientCoverage.objects.filter(agency=agency, priority=1).values_list(
        "client_id", "payer__name"
    ):
        if client_id in facts:
            facts[client_id].payer = payer
    for client_id, value in Identifier.objects.filter(
        agency=agency, kind=Identifier.Kind.PROVIDERONE
    ).values_list("client_id", "value"):
        if client_id in facts:
            facts[client_id].member_id = value
    return list(facts.values())


def _caseload_first(facts: list[Facts], login: str) -> Facts | None:
    """The case manager's first client by last name: the one the schedule demo drives to
    Harbor Mental Health Clinic for a medication review with Dr. Rivera."""
    theirs = [f for f in facts if f.manager.email.startswith(f"{login}@")]
    theirs.sort(key=lambda f: (f.client.legal_last_name, f.client.pk))
    return theirs[0] if theirs else None


def _release_pool(demo: _Demo, facts: list[Facts]) -> list[Facts]:
    """About a third of the clients, with a few from the SUD program and the walkthrough's
    client always among them, in the order the clients were made."""
    chosen = {f.client.pk for f in demo.rng.sample(facts, k=max(1, round(len(facts) / 3)))}
    sud = [f for f in facts if f.part2 and f.client.pk not in chosen]
    chosen |= {f.client.pk for f in demo.rng.sample(sud, k=min(2, len(sud)))}
    walkthrough = _caseload_first(facts, "casemanager")
    if walkthrough is not None:
        chosen.add(walkthrough.client.pk)
    return [f for f in facts if f.client.pk in chosen]


# ---- releases -----------------------------------------------------------------------------


def _with_part2(facts: Facts, categories: tuple[str, ...]) -> tuple[str, ...]:
    """A client of the Part 2 program shares clinical records only under a Part 2 consent."""
    if facts.part2 and set(categories) & CLINICAL_CATEGORIES:
        return (*categories, Category.SUBSTANCE_USE)
    return categories


def _release_plans(demo: _Demo, pool: list[Facts]) -> list[ReleasePlan]:
    rng = demo.rng
    plans: list[ReleasePlan] = []
    walkthrough = _caseload_first(pool, "casemanager")
    for index, facts in enumerate(pool):
        signed = demo.day(-rng.randint(20, 300))
        if facts is walkthrough or rng.random() < 0.85:
            # The prescriber's clinic; for the walkthrough's client Dr. Rivera's, where the
            # schedule demo drives them today.
            prescriber = "rivera" if facts is walkthrough else (facts.prescriber or "rivera")
            clinic = demo.made.people[prescriber].organization
            assert clinic is not None
            plans.append(
                ReleasePlan(
                    facts,
                    demo.key_of[clinic.pk],
                    None,
                    Purpose.TREATMENT,
                    _with_part2(facts, (*CHART, Category.DOCUMENTS)),
                    signed,
                    kind="prescriber",
                )
            )
        if rng.random() < 0.5:
            plans.append(
                ReleasePlan(
                    facts,
                    rng.choice(["hilltop_fhc", "hilltop_fhc", "southsound_med"]),
                    None,
                    Purpose.TREATMENT,
                    _with_part2(facts, (Category.DEMOGRAPHICS, Category.DIAGNOSES)),
                    demo.day(-rng.randint(10, 200)),
                    kind="primary",
                )
            )
        if index == 1 or rng.random() < 0.15:
            landlord = rng.choice(["kowalczyk", "whitaker", "vasquez"])
            plans.append(
                ReleasePlan(
                    facts,
                    None,
                    landlord,
                    Purpose.HOUSING,
                    (Category.DEMOGRAPHICS,),
                    demo.day(-rng.randint(30, 150)),
                    kind="landlord",
                )
            )
        plan_key = PLAN_ORGANIZATIONS.get(facts.payer)
        if plan_key and (index == 2 or facts.part2 or rng.random() < 0.15):
            if facts.part2:
                # The 2024 Part 2 rule: one consent for all future treatment, payment and
                # health care operations, until revoked.
                plans.append(
                    ReleasePlan(
                        facts,
                        plan_key,
                        None,
                        Purpose.TPO,
                        (
                            Category.DEMOGRAPHICS,
                            Category.DIAGNOSES,
                            Category.PLANS,
                            Category.SUBSTANCE_USE,
                        ),
                        demo.day(-rng.randint(30, 250)),
                        all_future=True,
                        kind="plan",
                    )
                )
            else:
                plans.append(
                    ReleasePlan(
                        facts,
                        plan_key,
                        "rahimi" if plan_key == "evergreen_plan" else "bell",
                        Purpose.TREATMENT,
                        (Category.DEMOGRAPHICS, Category.DIAGNOSES, Category.PLANS),
                        demo.day(-rng.randint(30, 250)),
                        kind="plan",
                    )
                )
    _mark_expiring_and_revoked(demo, plans, walkthrough)
    # Two were signed on paper, their scans in the chart: the walkthrough client's (the
    # schedule demo has a task to bring it to Dr. Rivera's office) and one more.
    prescribed = [p for p in plans if p.kind == "prescriber"]
    paper = [p for p in prescribed if p.facts is walkthrough][:1]
    paper += [p for p in prescribed if p.facts is not walkthrough and p.expires_on is None][:1]
    for plan in paper:
        plan.paper = True
    return plans


def _mark_expiring_and_revoked(
    demo: _Demo, plans: list[ReleasePlan], walkthrough: Facts | None
) -> None:
    """Two releases run out within 30 days (the walkthrough's first), one was revoked."""
    soon = [p for p in plans if p.facts is walkthrough and p.kind == "prescriber"][:1]
    others = [
        p
        for p in plans
        if p.kind == "prescriber" and p.facts is not walkthrough and not p.facts.part2
    ]
    walkthrough_manager = walkthrough.manager.pk if walkthrough is not None else None
    soon += [p for p in others if p.facts.manager.pk != walkthrough_manager][:1]
    for plan, days in zip(soon, (9, 23), strict=False):
        plan.expires_on = demo.day(days)
        plan.starts_on = plan.expires_on - datetime.timedelta(days=RELEASE_DAYS)
    landlords = [p for p in plans if p.kind == "landlord"]
    if landlords:
        landlords[0].revoked_on = demo.day(-6)


def _seed_releases(demo: _Demo, plans: list[ReleasePlan]) -> None:
    for plan in plans:
        facts = plan.facts
        copy = None
        if plan.paper:
            copy = _upload(
                demo,
                facts,
                kind=Document.Kind.SIGNED_CONSENT,
                title=f"Signed release, {demo.made.organizations[plan.organization or ''].name}",
                dated_on=plan.starts_on,
                name="release-scan.pdf",
                content=_scan_pdf(
                    demo,
                    "AUTHORIZATION TO RELEASE INFORMATION",
                    [
                        f"Client: {facts.client.legal_name}   "
                        f"Date of birth: {facts.client.date_of_birth:%m/%d/%Y}",
                        f"I authorize {demo.agency.name} to share my records with "
                        f"{demo.made.organizations[plan.organization or ''].name}.",
                        "Purpose: treatment and care coordination.",
                        "Information: " + "; ".join(Category(c).label for c in plan.categories),
                        "This authorization ends one year from the date signed.",
                        "",
                        f"Signed: {facts.client.legal_name}        Date: {plan.starts_on:%m/%d/%Y}",
                    ],
                ),
            )
        consent = services_consents.consent_record(
            client=facts.client,
            by=facts.manager,
            release=services_consents.NewRelease(
                organization=demo.org(plan.organization),
                person=demo.person(plan.person),
                purpose=plan.purpose,
                categories=plan.categories,
                starts_on=plan.starts_on,
                expires_on=None
                if plan.all_future
                else plan.expires_on or plan.starts_on + datetime.timedelta(days=RELEASE_DAYS),
                all_future=plan.all_future,
                purpose_detail=plan.purpose_detail,
                signed_how=Consent.SignedHow.PAPER if copy else Consent.SignedHow.ON_SCREEN,
                signed_by_name=facts.client.legal_name,
                signer_confirmed=copy is None,
                signed_copy=copy,
                signed_on=plan.starts_on,
            ),
        )
        if plan.revoked_on is not None:
            consent = services_consents.consent_revoke(
                consent=consent,
                by=facts.manager,
                note="By phone: moved out, and no longer wants the landlord contacted.",
            )
            # Revoked last week, not as the demo was loaded.
            revoked_at = demo.at((plan.revoked_on - demo.today).days, 14, 20)
            Consent.objects.filter(pk=consent.pk).update(revoked_at=revoked_at)
            consent.revoked_at = revoked_at
        demo.made.releases.append(consent)


# ---- documents ----------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """The text as the demo's built-in font can draw it ("José" as "Jose")."""
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _scan_pdf(demo: _Demo, title: str, lines: list[str]) -> bytes:
    """A one-page black-and-white "scan" with the text typed on it (a small PDF)."""
    page = Image.new("1", (850, 1100), 1)
    draw = ImageDraw.Draw(page)
    draw.text((70, 70), _ascii(title), fill=0, font=_font(26))
    draw.line((70, 112, 780, 112), fill=0, width=2)
    y = 140
    for line in lines:
        for part in textwrap.wrap(_ascii(line), 70) or [""]:
            draw.text((70, y), part, fill=0, font=_font(18))
            y += 28
    draw.text((70, 1040), SAMPLE, fill=0, font=_font(14))
    out = io.BytesIO()
    # Dated by the demo's today, not the clock, so the same seed makes the same file.
    stamp = demo.at(0, 9).astimezone(datetime.UTC).timetuple()
    page.save(out, "PDF", resolution=100.0, creationDate=stamp, modDate=stamp)
    return out.getvalue()


def _card_png(header: str, band: str, rows: list[str], *, photo: bool) -> bytes:
    """A wallet card photographed flat: a coloured band, a photo box, a few lines."""
    card = Image.new("RGB", (640, 400), (248, 248, 244))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((4, 4, 635, 395), radius=24, outline=(120, 120, 120), width=3)
    draw.rectangle((8, 30, 631, 90), fill=band)
    draw.text((28, 44), _ascii(header), fill="white", font=_font(28))
    left = 28
    if photo:
        draw.rectangle((28, 112, 178, 302), fill=(205, 210, 215))
        draw.ellipse((73, 135, 133, 195), fill=(160, 168, 176))
        draw.pieslice((48, 200, 158, 320), 180, 360, fill=(160, 168, 176))
        left = 200
    for number, row in enumerate(rows):
        draw.text((left, 118 + number * 34), _ascii(row), fill=(20, 20, 20), font=_font(21))
    draw.text((28, 350), "SAMPLE - DEMO DATA, NOT A REAL CARD", fill=(180, 30, 30), font=_font(18))
    out = io.BytesIO()
    card.save(out, "PNG")
    return out.getvalue()


def _plan_phone(demo: _Demo, payer: str) -> str:
    plan = demo.made.organizations.get(PLAN_ORGANIZATIONS.get(payer, "evergreen_plan"))
    return plan.phone if plan is not None else ""


def _upload(
    demo: _Demo,
    facts: Facts,
    *,
    kind: str,
    title: str,
    dated_on: datetime.date,
    name: str,
    content: bytes,
    part2: bool = False,
) -> Document:
    content_type = "application/pdf" if name.endswith(".pdf") else "image/png"
    document = document_upload(
        client=facts.client,
        uploaded_file=SimpleUploadedFile(name, content, content_type=content_type),
        kind=kind,
        title=title,
        dated_on=dated_on,
        part2=part2,
        by=facts.manager,
    )
    demo.made.documents.append(document)
    return document


def _seed_documents(demo: _Demo, pool: list[Facts]) -> None:
    rng = demo.rng
    picked = rng.sample(pool, k=min(len(pool), 7))
    sud = [f for f in pool if f.part2]
    for number, facts in enumerate(picked):
        client = facts.client
        if number < 3:
            _upload(
                demo,
                facts,
                kind=Document.Kind.ID_CARD,
                title="State ID card, front",
                dated_on=demo.day(-rng.randint(200, 1400)),
                name="state-id-front.png",
                content=_card_png(
                    "WASHINGTON  IDENTIFICATION CARD",
                    "#1f4e79",
                    [
                        client.legal_last_name.upper(),
                        client.legal_first_name.upper(),
                        f"DOB  {client.date_of_birth:%m/%d/%Y}",
                        f"ID  WDL{rng.randint(100000, 999999)}DEMO",
                        f"{client.city.upper()}, WA",
                    ],
                    photo=True,
                ),
            )
        elif number < 5:
            _upload(
                demo,
                facts,
                kind=Document.Kind.INSURANCE_CARD,
                title=f"{facts.payer or 'Health plan'} member card",
                dated_on=demo.day(-rng.randint(60, 500)),
                name="insurance-card.png",
                content=_card_png(
                    (facts.payer or "Health plan").replace(" (demo)", "").upper()[:30],
                    "#2e7d32",
                    [
                        client.legal_name,
                        f"Member ID  {facts.member_id or 'DEMO000000'}",
                        "Group  APPLE HEALTH (DEMO)",
                        f"Member services  {_plan_phone(demo, facts.payer)}",
                        "Pharmacy BIN 000000 (demo)",
                    ],
                    photo=False,
                ),
            )
        elif number == 5:
            _upload(
                demo,
                facts,
                kind=Document.Kind.DISCHARGE_SUMMARY,
                title="Discharge summary, Commencement Bay Regional Hospital",
                dated_on=demo.day(-rng.randint(25, 60)),
                name="discharge-summary.pdf",
                content=_scan_pdf(
                    demo,
                    "BEHAVIORAL HEALTH UNIT - DISCHARGE SUMMARY",
                    [
                        "Commencement Bay Regional Hospital (demo)",
                        f"Patient: {client.legal_name}   DOB: {client.date_of_birth:%m/%d/%Y}",
                        "Length of stay: 6 days. Admitted through the emergency department "
                        "after two weeks without medication.",
                        f"Discharge medications: {facts.medication or 'see list attached'}.",
                        "Follow-up: outpatient psychiatry within 7 days; case manager to "
                        "arrange transport and pharmacy blister packs.",
                    ],
                ),
            )
        else:
            _upload(
                demo,
                facts,
                kind=Document.Kind.BENEFITS,
                title="Basic Food approval letter",
                dated_on=demo.day(-rng.randint(10, 90)),
                name="basic-food-approval.pdf",
                content=_scan_pdf(
                    demo,
                    "NOTICE OF APPROVAL - BASIC FOOD",
                    [
                        "DSHS Community Services Office - Narrows (demo)",
                        f"To: {client.legal_name}",
                        "Your application for Basic Food is approved for 12 months.",
                        "Your next review is due in 6 months. Call 253-555-0140 with questions.",
                    ],
                ),
            )
    if sud:
        facts = sud[0]
        _upload(
            demo,
            facts,
            kind=Document.Kind.MEDICAL_RECORD,
            title="Cedar Path Recovery Services: assessment summary",
            dated_on=demo.day(-rng.randint(30, 120)),
            name="cedar-path-assessment.pdf",
            part2=True,
            content=_scan_pdf(
                demo,
                "SUBSTANCE USE DISORDER ASSESSMENT - SUMMARY",
                [
                    "Cedar Path Recovery Services (demo)",
                    f"Client: {facts.client.legal_name}",
                    "Recommendation: intensive outpatient, 3 groups a week, co-occurring track.",
                    "42 CFR Part 2: this record is shared only with the client's written consent.",
                ],
            ),
        )


# ---- referrals and their disclosures ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    status: str
    days: int  # from today
    hour: int
    minute: int = 0
    detail: str = ""


@dataclass(frozen=True)
class ReferralPlan:
    organization: str
    person: str | None
    purpose: str
    sections: tuple[str, ...]
    reason: str
    summary: str
    steps: tuple[Step, ...]
    urgency: str = Referral.Urgency.ROUTINE
    sent_via: str = Referral.SentVia.FAX
    scheduled_for: tuple[int, int, int] | None = None  # days from today, hour, minute
    follow_up: int | None = None  # days from today
    outcome: str = ""
    wants: str = ""  # substance_use: a client with a substance-use diagnosis fits best


S = Referral.Status
REFERRALS: tuple[ReferralPlan, ...] = (
    ReferralPlan(
        "cedar_path",
        "moffat",
        Purpose.TREATMENT,
        (Category.DEMOGRAPHICS, Category.DIAGNOSES, Category.PLANS),
        "{first} asked for help with their substance use; wants the co-occurring evening group.",
        "Motivated; works mornings, so evening groups only. Has no phone minutes after the "
        "20th: call the agency to reach them.",
        (Step(S.DRAFT, -4, 15, 10, "Started"), Step(S.SENT, -3, 9, 40, "By fax")),
        urgency=Referral.Urgency.SOON,
        follow_up=4,
        wants="substance_use",
    ),
    ReferralPlan(
        "hilltop_fhc",
        "haugen",
        Purpose.TREATMENT,
        (Category.DEMOGRAPHICS, Category.DIAGNOSES),
        "No primary care for three years; blood pressure high at the pharmacy kiosk twice.",
        "Needs a new-patient visit and labs (on an antipsychotic: metabolic monitoring).",
        (
            Step(S.DRAFT, -12, 11, 5, "Started"),
            Step(S.SENT, -11, 10, 15, "By their portal"),
            Step(S.ACKNOWLEDGED, -9, 14, 30, "New-patient packet received"),
            Step(S.SCHEDULED, -8, 9, 50, "Case manager to drive"),
        ),
        sent_via=Referral.SentVia.PORTAL,
        scheduled_for=(6, 9, 40),
        follow_up=7,
    ),
    ReferralPlan(
        "kindred_path",
        None,
        Purpose.CLIENT_REQUEST,
        (Category.DEMOGRAPHICS,),
        "{first} wants to meet people who have been through the same; interested in WRAP.",
        "",
        (
            Step(S.DRAFT, -46, 13, 0, "Started"),
            Step(S.SENT, -45, 9, 20, "By secure email"),
            Step(S.ACKNOWLEDGED, -43, 11, 0, "Peer counselor called the client"),
            Step(S.SCHEDULED, -40, 15, 45, "Intake at the Tuesday drop-in"),
            Step(S.COMPLETED, -34, 16, 30, "Attended the intake"),
        ),
        sent_via=Referral.SentVia.EMAIL,
        scheduled_for=(-35, 13, 0),
        outcome="Attended the intake and joined the Tuesday WRAP group; goes most weeks.",
    ),
    ReferralPlan(
        "narrows_psych",
        "okoye",
        Purpose.TREATMENT,
        (Category.DEMOGRAPHICS, Category.DIAGNOSES, Category.PLANS),
        "{first} would like a psychiatrist closer to home, after a move to the North End.",
        "Stable on current medications; needs refills managed from next quarter.",
        (
            Step(S.DRAFT, -27, 10, 0, "Started"),
            Step(S.SENT, -26, 8, 55, "By fax"),
            Step(
                S.DECLINED,
                -19,
                12,
                10,
                "New-patient waitlist closed until spring; they suggest Harbor Mental Health Clinic.",
            ),
        ),
        outcome="Stays with the current prescriber; asked again in the spring.",
    ),
    ReferralPlan(
        "tideline_legal",
        "natarajan",
        Purpose.LEGAL,
        (Category.DEMOGRAPHICS,),
        "14-day pay-or-vacate notice for {first}; rent short after the SSI overpayment.",
        "Notice served on the 2nd. Client has the notice and the SSA overpayment letter.",
        (
            Step(S.DRAFT, -6, 9, 0, "Started"),
            Step(S.SENT, -6, 9, 30, "By secure email"),
            Step(S.ACKNOWLEDGED, -2, 10, 45, "Screened; an attorney calls the client this week"),
        ),
        urgency=Referral.Urgency.URGENT,
        sent_via=Referral.SentVia.EMAIL,
        follow_up=2,
    ),
    ReferralPlan(
        "five_rivers_ha",
        None,
        Purpose.HOUSING,
        (Category.DEMOGRAPHICS,),
        "Mainstream voucher application for {first}; currently couch-surfing with a cousin.",
        "",
        (Step(S.DRAFT, -1, 16, 0, "Started"),),
    ),
    ReferralPlan(
        "tidewater_employment",
        None,
        Purpose.CLIENT_REQUEST,
        (Category.DEMOGRAPHICS, Category.PLANS),
        "{first} wants part-time work (warehouse or kitchen); goal 2 of the service plan.",
        "",
        (
            Step(S.DRAFT, -60, 14, 0, "Started"),
            Step(S.SENT, -59, 10, 0, "By fax"),
            Step(S.NO_RESPONSE, -30, 11, 20, "Two calls and an email unanswered"),
        ),
        outcome="Client will try again in the new year; asked for the intake line number.",
    ),
    ReferralPlan(
        "bread_basket",
        None,
        Purpose.CLIENT_REQUEST,
        (Category.DEMOGRAPHICS,),
        "Home delivery: {first} cannot carry groceries up three flights since the knee surgery.",
        "",
        (
            Step(S.DRAFT, -20, 10, 0, "Started"),
            Step(S.SENT, -20, 10, 20, "By phone"),
            Step(S.COMPLETED, -16, 13, 0, "First delivery made"),
        ),
        sent_via=Referral.SentVia.PHONE,
        outcome="Delivery every Friday; client says the box lasts the week.",
    ),
)


def _referral_clients(demo: _Demo, facts: list[Facts]) -> list[tuple[ReferralPlan, Facts]]:
    """A different client for each referral (as many as there are clients)."""
    order = demo.rng.sample(facts, k=len(facts))
    chosen: list[tuple[ReferralPlan, Facts]] = []
    for plan in REFERRALS:
        free = [f for f in order if all(f is not other for _, other in chosen)]
        if not free:
            break
        fitting = [f for f in free if f.substance_use] if plan.wants == "substance_use" else []
        chosen.append((plan, (fitting or free)[0]))
    return chosen


def _seed_referrals(demo: _Demo, facts: list[Facts]) -> None:
    for plan, who in _referral_clients(demo, facts):
        demo.made.referrals.append(_referral(demo, plan, who))


def _referral(demo: _Demo, plan: ReferralPlan, facts: Facts) -> Referral:
    client, by = facts.client, facts.manager
    organization = demo.made.organizations[plan.organization]
    person = demo.person(plan.person)
    started = plan.steps[0]
    # The client signs a release for the referral the day it is started.
    release = services_consents.consent_record(
        client=client,
        by=by,
        release=services_consents.NewRelease(
            organization=organization,
            person=None,
            purpose=plan.purpose,
            categories=_with_part2(facts, plan.sections),
            starts_on=demo.day(started.days),
            expires_on=demo.day(started.days + RELEASE_DAYS),
            signed_how=Consent.SignedHow.ON_SCREEN,
            signed_by_name=client.legal_name,
            signer_confirmed=True,
            signed_on=demo.day(started.days),
        ),
    )
    demo.made.releases.append(release)
    final = plan.steps[-1].status
    sent = next((s for s in plan.steps if s.status == S.SENT), None)
    referral = Referral.objects.create(
        agency_id=client.agency_id,
        client=client,
        organization=organization,
        person=person,
        reason=plan.reason.format(first=facts.first),
        urgency=plan.urgency,
        status=final,
        packet_summary=plan.summary,
        packet_categories=sorted(set(plan.sections) - {Category.DEMOGRAPHICS}),
        sent_via=plan.sent_via if sent else "",
        sent_at=demo.at(sent.days, sent.hour, sent.minute) if sent else None,
        scheduled_for=demo.at(*plan.scheduled_for) if plan.scheduled_for else None,
        follow_up_on=demo.day(plan.follow_up) if plan.follow_up is not None else None,
        outcome=plan.outcome,
        created_by=by,
        version=len(plan.steps),
    )
    audit_record(
        actor=by,
        action=Action.CREATE,
        obj=referral,
        client_id=client.pk,
        detail={"organization": organization.pk},
    )
    if sent is not None and referral.sent_at is not None:
        sharing = Sharing(
            client=client,
            categories=categories_shared(client=client, categories=plan.sections),
            organization=organization,
            person=person,
        )
        referral.disclosure = disclosure_record(
            sharing=sharing,
            logged=Logged(
                channel=Disclosure.Channel.REFERRAL_PACKET,
                description=f"Referral packet ({referral.get_urgency_display().lower()})",
                object_type="coordination.referral",
                object_id=str(referral.pk),
            ),
            by=by,
            at=referral.sent_at,
        )
    if referral.follow_up_on is not None and referral.is_open:
        referral.follow_up_task = task_create(
            assignee=by,
            title=f"Follow up on the referral to {organization.name}"[:200],
            by=by,
            client=client,
            reason="Check that the referral reached them and what came of it.",
            due_on=referral.follow_up_on,
            urgent=referral.urgency == Referral.Urgency.URGENT,
            kind=Task.Kind.REFERRAL_FOLLOW_UP,
        )
    referral.save(update_fields=["disclosure", "follow_up_task"])
    for step in plan.steps:
        detail = step.detail
        if step.status == S.SCHEDULED and referral.scheduled_for is not None:
            when = referral.scheduled_for.astimezone(demo.tz)
            detail = f"For {when:%m/%d/%Y %H:%M}" + (f". {detail}" if detail else "")
        event = ReferralEvent.objects.create(
            agency_id=client.agency_id, referral=referral, status=step.status, detail=detail, by=by
        )
        ReferralEvent.objects.filter(pk=event.pk).update(
            at=demo.at(step.days, step.hour, step.minute)
        )
    last = plan.steps[-1]
    Referral.objects.filter(pk=referral.pk).update(
        created_at=demo.at(started.days, started.hour, started.minute),
        updated_at=demo.at(last.days, last.hour, last.minute),
    )
    return referral


# ---- a prior authorization waiting for the plan -------------------------------------------


def _seed_prior_auth(demo: _Demo, pool: list[Facts]) -> None:
    medicaid = [f for f in pool if f.payer == "Evergreen Apple Health Plan (demo)"]
    if not medicaid:
        return
    facts = medicaid[0]
    payer = Payer.objects.get(agency=demo.agency, name=facts.payer)
    code = ServiceCode.objects.filter(agency=demo.agency, code="H2015", modifiers="").first()
    if code is None:
        return
    request = prior_auth_create(
        client=facts.client,
        by=facts.manager,
        details=PriorAuthDetails(
            payer=payer,
            service_code=code,
            units_requested=96,
            start_on=demo.day(-2),
            end_on=demo.day(87),
        ),
    )
    prior_auth_status_change(
        request=request,
        by=facts.manager,
        expected_version=request.version,
        step=PriorAuthStep(
            status=PriorAuthRequest.Status.SUBMITTED,
            on=demo.day(-2),
            reference=f"EVG-PA-{demo.rng.randint(100000, 999999)}",
            note="Faxed with the current service plan; decision due within 14 days.",
        ),
    )


# ---- calls with prescribers, pharmacists, landlords ---------------------------------------


CONTACTS: dict[str, list[tuple[str, str, str, str, tuple[int, int]]]] = {
    # counterpart: [(channel, direction, summary, outcome, minutes range)]
    "prescriber": [
        (
            "call",
            "outgoing",
            "Called {who} about {first}'s sleep and the missed doses last week.",
            "No change to the dose; the clinic nurse calls {first} on Friday.",
            (8, 15),
        ),
        (
            "call",
            "incoming",
            "{who}'s nurse called: {first} missed the medication review on Tuesday.",
            "Rebooked for next week at 10:00; I will drive.",
            (5, 10),
        ),
        (
            "voicemail",
            "outgoing",
            "Left a message for {who} about the hand tremor {first} described at the visit.",
            "Waiting for a call back.",
            (2, 3),
        ),
    ],
    "pharmacy": [
        (
            "call",
            "outgoing",
            "Asked {who} to move {first} to weekly blister packs for {medication}.",
            "Starts with the next fill; delivered on Thursdays.",
            (5, 12),
        ),
        (
            "call",
            "incoming",
            "{who} called: {first}'s {medication} refill is ready but needs the new insurance card.",
            "Took a photo of the card at the visit and sent it over.",
            (4, 8),
        ),
    ],
    "landlord": [
        (
            "call",
            "outgoing",
            "Talked with {who} about the late-rent notice; {first} can pay half now.",
            "Payment plan agreed: the rest by the 15th.",
            (10, 20),
        ),
        (
            "meeting",
            "outgoing",
            "Met {who} and {first} at the apartment for the annual inspection.",
            "Passed; smoke alarm battery replaced.",
            (30, 45),
        ),
    ],
    "plan": [
        (
            "call",
            "incoming",
            "{who} (health plan care coordinator) asked about {first}'s ER visit last month.",
            "Shared the crisis plan under the release; she will add transport benefits.",
            (10, 20),
        ),
    ],
}
PHARMACISTS = ("tran", "esposito")


def _seed_communications(demo: _Demo, pool: list[Facts]) -> None:
    rng = demo.rng
    released: dict[int, dict[str, Consent]] = {}
    prescribing = {
        p.organization_id for p in demo.made.people.values() if p.role == Person.Role.PHYSICIAN
    }
    for consent in demo.made.releases:
        kinds = released.setdefault(consent.client_id, {})
        if consent.revoked_at is not None:
            continue
        if consent.person is not None and consent.person.role == Person.Role.LANDLORD:
            kinds.setdefault("landlord", consent)
        elif consent.organization is not None:
            services = demo.services_of[consent.organization.pk]
            if "psychiatry" in services or consent.organization.pk in prescribing:
                kinds.setdefault("prescriber", consent)
            if "insurer" in services:
                kinds.setdefault("plan", consent)
    for facts in pool:
        have = released.get(facts.client.pk, {})
        counterparts = ["pharmacy", *sorted(have)]
        for _ in range(rng.choice([1, 2, 2, 3])):
            kind = rng.choice(counterparts)
            channel, direction, summary, outcome, minutes = rng.choice(CONTACTS[kind])
            organization, person = _counterpart(demo, kind, have.get(kind), facts)
            who = person.name if person is not None else (organization.name if organization else "")
            values = {
                "who": who,
                "first": facts.first,
                "medication": facts.medication or "medication",
            }
            communication_log(
                client=facts.client,
                by=facts.manager,
                entry=NewCommunication(
                    occurred_at=demo.at(
                        -rng.randint(1, 40), rng.randint(9, 16), rng.choice([0, 15, 30, 45])
                    ),
                    channel=channel,
                    direction=direction,
                    summary=summary.format(**values),
                    outcome=outcome.format(**values),
                    organization=organization,
                    person=person,
                    minutes=rng.randint(*minutes),
                ),
            )
            demo.made.communications += 1


def _counterpart(
    demo: _Demo, kind: str, consent: Consent | None, facts: Facts
) -> tuple[Organization | None, Person | None]:
    if kind == "pharmacy" or consent is None:
        person = demo.made.people[demo.rng.choice(PHARMACISTS)]
        return person.organization, person
    if kind == "prescriber":
        prescriber = demo.made.people.get(facts.prescriber)
        if prescriber is not None and prescriber.organization_id == consent.organization_id:
            return consent.organization, prescriber
        return consent.organization, None
    return consent.organization, consent.person


# ---- working together ---------------------------------------------------------------------


def _seed_comments(demo: _Demo, facts: list[Facts]) -> None:
    """@mentions: one for the walkthrough's case manager from a teammate, one for a
    supervisor on the caseload Casey covers this week, one from a supervisor to her team."""
    staff = demo.staff
    posts: list[tuple[str, str, str, int, int]] = [
        # (author, whose client, text, days ago, hour)
        (
            "jordan",
            "casemanager",
            "@Casey Nguyen the pharmacy called while you were out: {first}'s refill is ready, "
            "but they need the new insurance card. Can you take a photo of it on Thursday?",
            1,
            15,
        ),
        (
            "casemanager",
            "taylor",
            "Saw {first} at the pharmacy: doing fine, groceries done. "
            "@Sam Okonkwo the landlord wants a call back about the lease renewal.",
            1,
            11,
        ),
        (
            "supervisor2",
            "quinn",
            "@quinn {first} came by the Kindred Path drop-in on their own this morning and asked "
            "about the WRAP group. Worth a call today to plan the first session.",
            2,
            12,
        ),
    ]
    for author_login, owner_login, text, days_ago, hour in posts:
        owner = _caseload_first(facts, owner_login)
        author = staff.get(author_login)
        if owner is None or author is None:
            continue
        comment = services_collaboration.comment_post(
            client=owner.client, by=author, body=text.format(first=owner.first)
        )
        ChartComment.objects.filter(pk=comment.pk).update(created_at=demo.at(-days_ago, hour))
        demo.made.comments.append(comment)


def _seed_coverage(demo: _Demo) -> None:
    """Taylor Brooks is away this week; Casey Nguyen (the walkthrough's login) covers."""
    absent, covering = demo.staff.get("taylor"), demo.staff.get("casemanager")
    arranged_by = demo.staff.get("supervisor", demo.admin)
    if absent is None or covering is None:
        return
    monday = -demo.today.weekday()
    coverage = Coverage.objects.create(
        agency=demo.agency,
        absent=absent,
        covering=covering,
        starts_at=demo.at(monday, 0),
        ends_at=demo.at(monday + 7, 0),
        reason="Annual leave",
        created_by=arranged_by,
    )
    Coverage.objects.filter(pk=coverage.pk).update(created_at=demo.at(monday - 4, 16))
    audit_record(
        actor=arranged_by,
        action=Action.CREATE,
        obj=coverage,
        detail={
            "absent": absent.pk,
            "covering": covering.pk,
            "starts_at": coverage.starts_at.isoformat(),
            "ends_at": coverage.ends_at.isoformat(),
        },
    )
    demo.made.coverage = coverage
