"""python manage.py generate_dataset --recommendations N --assessments M --seed S"""

from django.core.management.base import BaseCommand, CommandError

from recommendations.dataset import DatasetError, dataset_generate
from reviews.models import State


class Command(BaseCommand):
    help = (
        "Generate a realistic, reproducible data set (reviews, recommendations, organisations, assessments) on top "
        "of the reference data: COPY on PostgreSQL, batched INSERTs on SQLite, all in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--recommendations", type=int, default=20_000, help="rows, about 2%% of them pledges")
        parser.add_argument("--assessments", type=int, default=30_000)
        parser.add_argument("--seed", type=int, default=2026, help="the same seed gives the same data")
        parser.add_argument("--organisations", type=int, default=None, help="default: 36")
        parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE of the filled tables")

    def handle(self, *args, **options):
        if not State.objects.exists():
            from reviews.services import reference_data_load

            self.stdout.write("No states yet: loading the reference data first.")
            reference_data_load()
        try:
            result = dataset_generate(
                recommendations=options["recommendations"],
                assessments=options["assessments"],
                seed=options["seed"],
                organisations=options["organisations"],
                analyze=not options["no_analyze"],
            )
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary_text(result))


def summary_text(result: dict) -> str:
    seconds = result["seconds"]
    phases = ", ".join(f"{phase} {value:.1f}" for phase, value in seconds.items() if phase != "total")
    return (
        f"Generated on {result['database']} with seed {result['seed']}: {result['reviews']:,} reviews in "
        f"{result['sessions']:,} sessions, {result['recommendations']:,} recommendations and "
        f"{result['voluntary_pledges']:,} voluntary pledges ({result['recommending_state_links']:,} recommending-state "
        f"and {result['issue_links']:,} issue links), {result['organisations']:,} organisations "
        f"({result['organisations_created']:,} new), {result['users_created']:,} new users, "
        f"{result['assessments']:,} assessments.\n"
        f"Seconds: {seconds['total']:.1f} ({phases})."
    )
