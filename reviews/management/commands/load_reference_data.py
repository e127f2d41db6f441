from django.core.management.base import BaseCommand

from reviews.services import reference_data_load


class Command(BaseCommand):
    help = "Load or refresh the reference data: groups, states and aliases, organisations, cycles, sessions, issues."

    def handle(self, *args, **options):
        counts = reference_data_load()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count}")
        changed = sum(counts.values())
        self.stdout.write(self.style.SUCCESS(f"Reference data loaded ({changed} rows created, updated or deleted)."))
