"""factory_boy factories. Pledges and caveats go through the services, as users' writes do."""

from __future__ import annotations

from typing import Any

import factory

from accounts.models import Role, User
from pledges import services
from pledges.models import CapabilityCategory, CategoryUnit, Coalition, Country, Membership, Pledge, Unit

TEST_PASSWORD = "correct-horse-battery"


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{chr(65 + (n // 26) % 26)}{chr(65 + n % 26)}")
    name = factory.LazyAttribute(lambda o: f"Country {o.code}")


class CoalitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coalition

    name = factory.Sequence(lambda n: f"Coalition {n}")
    short_name = factory.Sequence(lambda n: f"C{n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = "personnel"
    name = factory.LazyAttribute(lambda o: o.code.title())


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapabilityCategory
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = "troops"
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").title())

    @factory.post_generation
    def unit_codes(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for code in extracted or ["personnel"]:
            CategoryUnit.objects.get_or_create(category=self, unit=UnitFactory(code=code))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ANALYST
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


def member(country: Country, coalition: Coalition) -> Country:
    Membership.objects.get_or_create(country=country, coalition=coalition)
    return country


def ministry_user(country: Country, username: str | None = None) -> User:
    """The country's ministry user, made once (later calls do not reset its password and so its sessions)."""
    username = username or f"ministry-{country.code.lower()}"
    existing = User.objects.filter(username=username).first()
    return existing or UserFactory(username=username, role=Role.MINISTRY, country=country)


def make_pledge(*, country: Country, coalition: Coalition, category: CapabilityCategory | None = None,
                unit: Unit | None = None, quantity: int = 100, status: str = "draft", **fields: Any) -> Pledge:
    """A pledge created and moved to `status` through the services, by the country's own ministry user."""
    actor = ministry_user(country)
    category = category or CategoryFactory()
    unit = unit or UnitFactory(code="personnel")
    member(country, coalition)
    pledge = services.pledge_create(actor=actor, coalition=coalition, category=category, unit=unit,
                                    quantity=quantity, status="draft" if status == "draft" else "indicative",
                                    **fields)
    path = {"draft": [], "indicative": [], "confirmed": ["confirmed"], "deployed": ["confirmed", "deployed"],
            "withdrawn": ["withdrawn"]}[status]
    for step in path:
        pledge = services.pledge_transition(actor=actor, pledge=pledge, to_status=step)
    return pledge
