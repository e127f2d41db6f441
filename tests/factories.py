"""factory_boy factories for every app's models.

Reference data (states, groups, cycles, sessions, issues) is loaded into every test database, so factories
pick real states and sessions instead of inventing them.
"""

import csv
import datetime
import io

import factory
from factory.django import DjangoModelFactory

from followup.models import Assessment, Membership, Organisation, User
from recommendations.models import Issue, Recommendation
from reviews.models import Review, Session, State


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review
        django_get_or_create = ("state", "session")

    state = factory.LazyFunction(lambda: _state("FRA"))
    session = factory.LazyFunction(lambda: Session.objects.get(number=15))
    report_symbol = ""


class RecommendationFactory(DjangoModelFactory):
    class Meta:
        model = Recommendation
        skip_postgeneration_save = True

    review = factory.SubFactory(ReviewFactory)
    kind = Recommendation.Kind.RECOMMENDATION
    text = factory.Sequence(lambda n: f"Ratify the Optional Protocol to the Convention against Torture (#{n})")
    response = Recommendation.Response.ACCEPTED
    response_original = "Accepted"
    action_category = Recommendation.ActionCategory.SPECIFIC

    @factory.post_generation
    def recommending_states(self, create, extracted, **kwargs):
        if create:
            self.recommending_states.set(extracted if extracted is not None else [_state("BRA")])

    @factory.post_generation
    def issues(self, create, extracted, **kwargs):
        if create:
            self.issues.set(
                extracted if extracted is not None else [Issue.objects.get(name="Torture and other CID treatment")]
            )


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Human Rights Watchers {n}")
    slug = factory.Sequence(lambda n: f"human-rights-watchers-{n}")
    kind = Organisation.Kind.CSO
    country = None


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.MEMBER


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = Assessment

    recommendation = factory.SubFactory(RecommendationFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    author = factory.SubFactory(UserFactory)
    phase = Assessment.Phase.MID_TERM
    status = Assessment.Status.PARTIALLY_IMPLEMENTED
    comment = "A national action plan was adopted but is not funded."
    assessed_on = datetime.date(2015, 6, 1)
    visibility = Assessment.Visibility.PUBLIC


def csv_bytes(header, rows, *, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """A CSV file as an import receives it: a header row, then the rows, in the given encoding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)
