"""python manage.py demo_setup: what `make run` does before serving (DEBUG only, idempotent)."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations.demo import DEMO_ASSESSMENTS, DEMO_RECOMMENDATIONS, DEMO_SEED, DemoSetupRefused, demo_setup
from recommendations.management.commands.generate_dataset import summary_text


class Command(BaseCommand):
    help = (
        "Prepare the local demo: reference data, a demo data set (once), and the demo superuser `admin` whose "
        "password is kept in .demo-login. Refuses to run unless DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"), help="port printed in the login URL")
        parser.add_argument("--login-file", type=Path, default=None, help="default: .demo-login at the repo root")
        parser.add_argument("--recommendations", type=int, default=DEMO_RECOMMENDATIONS)
        parser.add_argument("--assessments", type=int, default=DEMO_ASSESSMENTS)
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    def handle(self, *args, **options):
        try:
            result = demo_setup(
                login_file=options["login_file"],
                recommendations=options["recommendations"],
                assessments=options["assessments"],
                seed=options["seed"],
            )
        except DemoSetupRefused as exc:
            raise CommandError(str(exc)) from exc
        changed = sum(result.reference_data.values())
        self.stdout.write(f"Reference data: {changed} rows created or updated.")
        if result.dataset is None:
            self.stdout.write("Demo data: the database already holds recommendations; nothing generated.")
        else:
            self.stdout.write(summary_text(result.dataset))
        if result.admin != "unchanged":
            self.stdout.write(f"Demo superuser {result.username}: {result.admin}.")
        self.stdout.write(self.style.SUCCESS(result.login_line(f"http://127.0.0.1:{options['port']}")))
