"""Every write to assessments: start, save answers (partially, as often as needed), sign, amend.

Urgent flags (PHQ-9 item 9, risk of harm) go on the chart as a safety flag the moment the
answer is saved, with the answer that raised them, so everyone who opens the chart sees it, and
a notice goes at once to the client's primary case manager and their team supervisors, who see
it on My day until they acknowledge it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casework.assessments.instruments import Instrument, Result, instruments
from casework.assessments.models import Assessment, AssessmentAddendum
from casework.automation import triggers as automation_triggers
from casework.clients.models import CareTeamMember, Client, FlagNotice, SafetyFlag, TimelineEvent
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import TeamMembership, User
from casework.worklist.tasks import evaluate_client_warnings

TEXT_LIMIT = 20_000
# Where an urgent flag shows on the chart; anything else urgent shows as "other".
CHART_FLAG_KINDS = {
    "suicide_risk": SafetyFlag.Kind.SUICIDE_RISK,
    "self_harm": SafetyFlag.Kind.SUICIDE_RISK,
    "violence_risk": SafetyFlag.Kind.VIOLENCE,
}


class AssessmentError(Exception):
    """An assessment change that cannot be made; `field` names the item it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def instrument_of(assessment: Assessment) -> Instrument:
    try:
        return instruments()[assessment.instrument]
    except KeyError:
        raise AssessmentError(
            f"The instrument “{assessment.instrument}” is no longer installed."
        ) from None


def assessment_start(
    *, client: Client, author: User, instrument_key: str, administered_on: datetime.date, mode: str
) -> Assessment:
    """A new draft with no answers yet."""
    if not access.may_write_notes(author) or client.agency_id != author.agency_id:
        raise AssessmentError("Your role does not give assessments to this client.")
    instrument = instruments().get(instrument_key)
    if instrument is None:
        raise AssessmentError("Choose an instrument.", field="instrument")
    if mode not in Assessment.Mode.values:
        raise AssessmentError("Choose how the assessment was given.", field="mode")
    with transaction.atomic():
        assessment = Assessment.objects.create(
            agency_id=client.agency_id,
            client=client,
            author=author,
            instrument=instrument.key,
            instrument_version=instrument.version,
            administered_on=administered_on,
            mode=mode,
        )
        audit_record(actor=author, action=Action.CREATE, obj=assessment, client_id=client.pk)
    return assessment


def _clean_answers(instrument: Instrument, answers: dict[str, Any]) -> dict[str, Any]:
    """Keep known items only; choices must be one of the item's options, text within limits."""
    clean: dict[str, Any] = {}
    by_key = {item["key"]: item for item in instrument.items}
    for key, value in answers.items():
        item = by_key.get(key)
        if item is None or value in (None, ""):
            continue
        if item["type"] == "text":
            text = str(value).strip()
            if len(text) > TEXT_LIMIT:
                raise AssessmentError(f"At most {TEXT_LIMIT:,} characters.", field=key)
            clean[key] = text
            continue
        allowed = {option["value"] for option in instrument.options(item)}
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number not in allowed:
            raise AssessmentError("Choose one of the answers offered.", field=key)
        clean[key] = number
    return clean


def assessment_save(
    *, assessment: Assessment, by: User, answers: dict[str, Any], expected_version: int
) -> tuple[Assessment, Result]:
    """Save the answers so far (a partial save is normal) and raise urgent flags at once."""
    instrument = instrument_of(assessment)
    clean = _clean_answers(instrument, answers)
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.author_id != by.pk:
            raise AssessmentError("Only the person giving the assessment can change it.")
        if locked.status != Assessment.Status.DRAFT:
            raise AssessmentError("This assessment is signed; add an addendum instead.")
        if locked.version != expected_version:
            raise AssessmentError(
                "This assessment was saved elsewhere since you opened it; reload it."
            )
        locked.answers = {**locked.answers, **clean}
        locked.version += 1
        locked.save(update_fields=["answers", "version", "updated_at"])
        result = instrument.score(locked.answers, sex=locked.client.sex_for_billing)
        _raise_urgent_flags(locked, instrument, result, by)
        audit_record(actor=by, action=Action.UPDATE, obj=locked, client_id=locked.client_id)
    return locked, result


def _raise_urgent_flags(
    assessment: Assessment, instrument: Instrument, result: Result, by: User
) -> None:
    """Put each urgent flag on the chart once (a flag already active is not repeated) and
    send the notices for it (see `_send_flag_notices`)."""
    for flag in result.flags:
        if not flag.urgent:
            continue
        kind = CHART_FLAG_KINDS.get(flag.kind, SafetyFlag.Kind.OTHER)
        answer = _answer_label(instrument, flag.item, assessment.answers)
        detail = f"{instrument.name}, {assessment.administered_on:%m/%d/%Y}: {answer}"
        chart_flag = SafetyFlag.objects.filter(
            client=assessment.client, kind=kind, is_active=True
        ).first()
        if chart_flag is None:
            chart_flag = SafetyFlag.objects.create(
                agency_id=assessment.agency_id,
                client=assessment.client,
                kind=kind,
                detail=detail[:300],
                created_by=by,
            )
            TimelineEvent.objects.create(
                agency_id=assessment.agency_id,
                client=assessment.client,
                occurred_at=timezone.now(),
                kind="assessment_flag",
                summary=flag.message[:300],
                actor=by,
            )
        _send_flag_notices(chart_flag, assessment, reason=detail, by=by)


def _flag_notice_recipients(client: Client, *, raised_by: User) -> list[int]:
    """Who is told of an urgent flag: the client's primary case manager(s) today and every
    supervisor of the (active) teams they are on.

    Nobody is left out for having raised the flag themselves: the notice is a follow-up item on
    My day (acknowledging it says "I have acted on this"), not news. A client with no primary
    case manager would leave nobody responsible, so then the supervisors of the person who gave
    the assessment are told, and that person too.
    """
    today = client.agency.today()
    primaries = list(
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(today),
            client=client,
            agency_id=client.agency_id,
            role=CareTeamMember.Role.PRIMARY,
            staff__is_active=True,
            staff__agency_id=client.agency_id,
        ).values_list("staff_id", flat=True)
    ) or [raised_by.pk]
    their_teams = TeamMembership.objects.filter(
        user_id__in=primaries, team__is_active=True, agency_id=client.agency_id
    ).values("team_id")
    supervisors = TeamMembership.objects.filter(
        team_id__in=their_teams,
        kind=TeamMembership.Kind.SUPERVISOR,
        user__is_active=True,
        user__agency_id=client.agency_id,
    ).values_list("user_id", flat=True)
    return sorted({*primaries, *supervisors})


def _send_flag_notices(flag: SafetyFlag, assessment: Assessment, *, reason: str, by: User) -> None:
    """One notice per recipient per assessment that raises the flag.

    Saving the same draft again does not repeat the notices; a new assessment that raises a
    flag already on the chart does send new ones (it is new information: the risk is still
    there). The reason is PHI: it goes into the notice row, never into the audit detail.
    """
    already = set(
        FlagNotice.objects.filter(flag=flag, assessment=assessment).values_list(
            "recipient_id", flat=True
        )
    )
    recipients = _flag_notice_recipients(assessment.client, raised_by=by)
    for recipient_id in recipients:
        if recipient_id in already:
            continue
        notice = FlagNotice.objects.create(
            agency_id=assessment.agency_id,
            flag=flag,
            recipient_id=recipient_id,
            assessment=assessment,
            raised_by=by,
            reason=reason[:600],
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=notice,
            client_id=assessment.client_id,
            detail={"flag": flag.pk, "recipient": recipient_id, "assessment": assessment.pk},
        )


def flag_notice_acknowledge(*, notice: FlagNotice, by: User) -> bool:
    """The recipient has seen the flag and acted on it; the notice leaves their My day but the
    row stays. Only the recipient can acknowledge; doing it twice changes nothing (False)."""
    if notice.recipient_id != by.pk or notice.agency_id != by.agency_id:
        raise AssessmentError("Only the person this notice was sent to can acknowledge it.")
    with transaction.atomic():
        updated = FlagNotice.objects.filter(
            pk=notice.pk, recipient=by, acknowledged_at__isnull=True
        ).update(acknowledged_at=timezone.now())
        if updated:
            audit_record(
                actor=by,
                action=Action.UPDATE,
                obj=notice,
                client_id=notice.flag.client_id,
                detail={"acknowledged": True},
            )
    return bool(updated)


def _answer_label(instrument: Instrument, item_key: str | None, answers: dict[str, Any]) -> str:
    item = next((i for i in instrument.items if i["key"] == item_key), None)
    if item is None or item_key is None:
        return "score"
    given = answers.get(item_key)
    label = next((o["label"] for o in instrument.options(item) if o["value"] == given), str(given))
    return f"“{item['text']}” — {label}"


def assessment_sign(*, assessment: Assessment, by: User) -> Assessment:
    """Sign and lock a complete assessment; its score, band and flags are fixed as computed."""
    instrument = instrument_of(assessment)
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.status == Assessment.Status.SIGNED:
            return locked
        if locked.author_id != by.pk:
            raise AssessmentError("Only the person who gave the assessment can sign it.")
        result = instrument.score(locked.answers, sex=locked.client.sex_for_billing)
        if not result.complete:
            raise AssessmentError(
                f"{len(result.missing)} question(s) still need an answer.", field=result.missing[0]
            )
        locked.status = Assessment.Status.SIGNED
        locked.signed_at = timezone.now()
        locked.total = result.total
        locked.band = result.band.label if result.band else ""
        locked.flags = [
            {"kind": f.kind, "message": f.message, "urgent": f.urgent, "item": f.item}
            for f in result.flags
        ]
        locked.save()
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"signed": True},
        )
        evaluate_client_warnings.enqueue(client_id=locked.client_id)  # early warnings (PHQ-9)
        automation_triggers.assessment_signed(assessment=locked)  # "when it raises a flag…"
    return locked


def assessment_addendum_add(*, assessment: Assessment, by: User, text: str) -> AssessmentAddendum:
    text = text.strip()
    if not text:
        raise AssessmentError("Write the addendum.", field="text")
    if len(text) > TEXT_LIMIT:
        raise AssessmentError(f"At most {TEXT_LIMIT:,} characters.", field="text")
    if assessment.status != Assessment.Status.SIGNED:
        raise AssessmentError("A draft can still be changed; addenda are for signed assessments.")
    if assessment.agency_id != by.agency_id or not access.may_write_notes(by):
        raise AssessmentError("Your role does not amend assessments.")
    with transaction.atomic():
        addendum = AssessmentAddendum.objects.create(
            agency_id=assessment.agency_id, assessment=assessment, author=by, text=text
        )
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=assessment,
            client_id=assessment.client_id,
            detail={"addendum": addendum.pk},
        )
    return addendum
