"""factory-boy factories for tests and benchmarks."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.utils import timezone

from casework.billing.models import Payer
from casework.clients import search
from casework.clients.models import CareTeamMember, Client, NameKey
from casework.core.models import Agency, Credential, Program, StaffRole, Team, TeamMembership, User

PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    time_zone = "America/Los_Angeles"


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Program {n}")


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    agency = factory.SubFactory(AgencyFactory)
    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    password = factory.django.Password(PASSWORD)
    # Always at work, so My day's after-hours quiet never depends on when the tests run.
    work_days = "MO,TU,WE,TH,FR,SA,SU"
    work_starts = datetime.time(0, 0)
    work_ends = datetime.time(0, 0)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for role in extracted or []:
            StaffRole.objects.create(agency=self.agency, user=self, role=role)
        self.__dict__.pop("roles", None)


def add_to_team(user: User, team: Team, kind: str = TeamMembership.Kind.MEMBER) -> None:
    TeamMembership.objects.create(agency=team.agency, team=team, user=user, kind=kind)


class PayerFactory(factory.django.DjangoModelFactory[Payer]):
    class Meta:
        model = Payer

    agency = factory.SubFactory(AgencyFactory)
    name = factory.Sequence(lambda n: f"Payer {n}")
    kind = Payer.Kind.MEDICAID_MCO
    payer_id = factory.Sequence(lambda n: f"P{n:05d}")


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    """A client with search keys; use `services.client_create` where the create path itself is tested."""

    class Meta:
        model = Client
        skip_postgeneration_save = True

    agency = factory.SubFactory(AgencyFactory)
    record_number = factory.Sequence(lambda n: f"T-{n:06d}")
    legal_first_name = factory.Sequence(lambda n: f"Testfirst{n}")
    legal_last_name = factory.Sequence(lambda n: f"Testlast{n}")
    date_of_birth = datetime.date(1970, 5, 17)
    created_by = factory.LazyAttribute(lambda o: UserFactory(agency=o.agency))

    @factory.post_generation
    def index(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        names = (
            self.legal_first_name,
            self.legal_middle_name,
            self.legal_last_name,
            self.preferred_name,
        )
        self.search_name = " ".join(search.tokens(" ".join(names)))
        Client.objects.filter(pk=self.pk).update(search_name=self.search_name)
        if self.status == Client.Status.MERGED:
            return  # as services.client_merge leaves it: a merged record is found by its survivor
        NameKey.objects.bulk_create(
            [
                NameKey(
                    agency_id=self.agency_id,
                    client=self,
                    key=k,
                    client_is_active=self.status == Client.Status.ACTIVE,
                )
                for k in sorted(search.name_keys(names))
            ]
        )


def assign(
    client: Client,
    staff: User,
    role: str = CareTeamMember.Role.PRIMARY,
    start_on: datetime.date | None = None,
) -> CareTeamMember:
    return CareTeamMember.objects.create(
        agency=client.agency,
        client=client,
        staff=staff,
        role=role,
        start_on=start_on or timezone.now().date() - datetime.timedelta(days=30),
    )


class CredentialFactory(factory.django.DjangoModelFactory[Credential]):
    class Meta:
        model = Credential

    user = factory.SubFactory(UserFactory)
    agency = factory.LazyAttribute(lambda o: o.user.agency)
    kind = "aac_registered"
    number = factory.Sequence(lambda n: f"CO{60000000 + n}")
    expires_on = factory.LazyFunction(lambda: timezone.now().date() + datetime.timedelta(days=365))
