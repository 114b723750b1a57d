"""What the client's releases let us share, with whom, and when they stop."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from casework.clients.models import Episode
from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    accounting_since,
    categories_shared,
    disclosure_check,
    disclosure_record,
)
from casework.coordination.models import Category, Disclosure
from casework.testing.coordination import OrganizationFactory, PersonFactory, release
from casework.testing.factories import ProgramFactory
from casework.testing.personas import Cast

PACKET = Logged(channel=Disclosure.Channel.REFERRAL_PACKET, description="Referral packet")


@pytest.fixture
def clinic(cast: Cast):  # type: ignore[no-untyped-def]
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


def _sharing(cast: Cast, *categories: str, **recipient: object) -> Sharing:
    return Sharing(client=cast.client, categories=frozenset(categories), **recipient)  # type: ignore[arg-type]


def test_with_no_release_nothing_may_be_shared_and_the_refusal_names_the_recipient(
    cast: Cast, clinic
) -> None:  # type: ignore[no-untyped-def]
    verdict = disclosure_check(sharing=_sharing(cast, Category.DEMOGRAPHICS, organization=clinic))
    assert not verdict.allowed
    assert "Riverside Psychiatry" in verdict.refusal


def test_a_release_to_an_organisation_covers_its_people_but_one_to_a_person_does_not_cover_the_organisation(
    cast: Cast, clinic
) -> None:  # type: ignore[no-untyped-def]
    doctor = PersonFactory(agency=cast.agency, organization=clinic)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    assert disclosure_check(sharing=_sharing(cast, Category.NOTES, person=doctor)).allowed

    other_clinic = OrganizationFactory(agency=cast.agency)
    pharmacist = PersonFactory(agency=cast.agency, organization=other_clinic)
    release(client=cast.client, by=cast.case_manager, person=pharmacist)
    assert disclosure_check(sharing=_sharing(cast, Category.NOTES, person=pharmacist)).allowed
    assert not disclosure_check(
        sharing=_sharing(cast, Category.NOTES, organization=other_clinic)
    ).allowed


def test_a_part2_document_needs_a_part2_consent_which_together_with_the_release_covers_the_packet(
    cast: Cast, clinic
) -> None:  # type: ignore[no-untyped-def]
    ordinary = release(client=cast.client, by=cast.case_manager, organization=clinic)
    shared = categories_shared(
        client=cast.client, categories=[Category.DOCUMENTS], part2_documents=True
    )
    verdict = disclosure_check(sharing=_sharing(cast, *shared, organization=clinic))
    assert not verdict.allowed
    assert "42 CFR Part 2" in verdict.refusal

    part2 = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
    )
    verdict = disclosure_check(sharing=_sharing(cast, *shared, organization=clinic))
    assert verdict.allowed
    assert verdict.consents == (part2, ordinary)


def test_clinical_records_of_a_client_in_a_part2_program_are_part2(cast: Cast) -> None:
    program = ProgramFactory(agency=cast.agency, is_part2=True)
    assert Category.SUBSTANCE_USE not in categories_shared(
        client=cast.client, categories=[Category.NOTES]
    )
    Episode.objects.create(
        agency=cast.agency, client=cast.client, program=program, admitted_on=cast.agency.today()
    )
    assert Category.SUBSTANCE_USE in categories_shared(
        client=cast.client, categories=[Category.NOTES]
    )
    assert Category.SUBSTANCE_USE not in categories_shared(
        client=cast.client, categories=[Category.DEMOGRAPHICS]
    )


def test_a_revoked_release_stops_disclosures_from_that_moment(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    sharing = _sharing(cast, Category.NOTES, organization=clinic)
    revoked_at = timezone.now()
    consent.revoked_at = revoked_at
    consent.save()
    before = disclosure_check(sharing=sharing, now=revoked_at - datetime.timedelta(seconds=1))
    after = disclosure_check(sharing=sharing, now=revoked_at)
    assert before.allowed
    assert not after.allowed
    assert "revoked" in after.refusal


def test_an_expired_release_stops_the_day_after_it_expires(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    today = cast.agency.today()
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        starts_on=today - datetime.timedelta(days=30),
        expires_on=today - datetime.timedelta(days=1),
    )
    verdict = disclosure_check(sharing=_sharing(cast, Category.NOTES, organization=clinic))
    assert not verdict.allowed
    assert "expired" in verdict.refusal


def test_a_refused_disclosure_logs_nothing_and_an_allowed_one_logs_once(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    sharing = _sharing(cast, Category.NOTES, organization=clinic)
    with pytest.raises(DisclosureRefused):
        disclosure_record(sharing=sharing, logged=PACKET, by=cast.case_manager)
    assert not Disclosure.objects.exists()

    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    disclosure = disclosure_record(sharing=sharing, logged=PACKET, by=cast.case_manager)
    assert disclosure.consent == consent
    assert disclosure.recipient_name == "Riverside Psychiatry"
    assert Disclosure.objects.count() == 1


def test_the_database_refuses_to_change_a_logged_disclosure(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    disclosure = disclosure_record(
        sharing=_sharing(cast, Category.NOTES, organization=clinic),
        logged=PACKET,
        by=cast.case_manager,
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).update(description="nothing to see")


def test_the_accounting_period_is_the_prior_three_years_even_from_a_leap_day() -> None:
    assert accounting_since(datetime.date(2026, 12, 3)) == datetime.date(2023, 12, 3)
    assert accounting_since(datetime.date(2028, 2, 29)) == datetime.date(2025, 2, 28)


def test_everyone_a_disclosure_names_must_be_covered(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    stranger = PersonFactory(agency=cast.agency, organization=None, name="Someone Else")
    assert not disclosure_check(
        sharing=_sharing(cast, Category.NOTES, organization=clinic, person=stranger)
    ).allowed

    doctor = PersonFactory(agency=cast.agency, organization=clinic)
    release(client=cast.client, by=cast.case_manager, person=doctor)
    other_clinic = OrganizationFactory(agency=cast.agency)
    # A release to the doctor alone does not cover faxing to another organisation with them.
    assert not disclosure_check(
        sharing=_sharing(cast, Category.NOTES, organization=other_clinic, person=doctor)
    ).allowed
    assert disclosure_check(sharing=_sharing(cast, Category.NOTES, person=doctor)).allowed


def test_a_release_to_a_person_does_not_cover_their_organisation(cast: Cast, clinic) -> None:  # type: ignore[no-untyped-def]
    doctor = PersonFactory(agency=cast.agency, organization=clinic)
    release(client=cast.client, by=cast.case_manager, person=doctor)
    assert not disclosure_check(sharing=_sharing(cast, Category.NOTES, organization=clinic)).allowed
    both = disclosure_check(
        sharing=_sharing(cast, Category.NOTES, organization=clinic, person=doctor)
    )
    assert not both.allowed
    assert f"names {doctor.name} but not Riverside Psychiatry" in both.refusal
