"""python manage.py compute_statistics [--phase P] [--rule R] [--cycle N] [--include-pledges] [--all] [--json]:
compute the implementation statistics now, store the snapshot the pages and the API read, and print it."""

import json

from django.core.management.base import BaseCommand, CommandError

from followup.jobs import recompute_now
from followup.snapshots import cycle_check, imports_running, snapshot_read
from followup.statistics import DEFAULT_PHASE, DEFAULT_RULE, PHASES, RULES, UnknownFilter

SHOWN = ("response", "action_category", "sur_region", "recommending_region", "cycle")  # the rest: --json
COLUMNS = ("recommendations", "assessed", "not_implemented", "partially_implemented", "fully_implemented",
           "triggered_action_pct", "fully_implemented_pct", "coverage_pct")  # fmt: skip
HEADINGS = ("recs", "assessed", "not", "partially", "fully", "triggered %", "fully %", "coverage %")


class Command(BaseCommand):
    help = (
        "Compute the implementation statistics now (a phase and a consolidation rule; --all: every one, as the "
        "nightly job does), store the snapshot the statistics pages and the API read, and print it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--phase", choices=PHASES, default=DEFAULT_PHASE)
        parser.add_argument("--rule", choices=RULES, default=DEFAULT_RULE)
        parser.add_argument("--cycle", type=int, help="print this cycle's figures (all cycles are computed)")
        parser.add_argument(
            "--include-pledges", action="store_true", help="count voluntary pledges too (left out by default)"
        )
        parser.add_argument(
            "--all", dest="every", action="store_true", help="compute every phase and rule, then print --phase/--rule"
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the snapshot as JSON (the API's shape)"
        )

    def handle(self, *args, phase, rule, cycle, include_pledges, every, as_json, **options):
        if cycle is not None:
            try:
                cycle_check(cycle)
            except UnknownFilter as error:
                raise CommandError(str(error)) from None
        for run in imports_running():
            self.stderr.write(
                f"An import is running ({run.file_name or 'import'} #{run.pk}, since {run.started_at:%H:%M:%S}): "
                "these figures leave out its data until it finishes, which computes them again."
            )
        recompute_now(  # recorded: a StatisticsRecompute "by hand (command line)"
            phases=PHASES if every else (phase,), rules=RULES if every else (rule,), include_pledges=include_pledges
        )
        snapshot = snapshot_read(phase, rule, cycle=cycle, include_pledges=include_pledges)
        if as_json:
            self.stdout.write(json.dumps(snapshot, indent=2, ensure_ascii=False))
        else:
            self._print(snapshot)

    def _print(self, snapshot: dict) -> None:
        overall = snapshot["overall"]
        cycle = f"cycle {snapshot['cycle']}" if snapshot["cycle"] else "all cycles"
        pledges = ", voluntary pledges included" if snapshot["include_pledges"] else ""
        self.stdout.write(
            f"Implementation statistics, {snapshot['phase']}, rule {snapshot['rule']}, {cycle}{pledges}: computed at "
            f"{snapshot['computed_at']} in {snapshot['duration_seconds']:.1f} s from "
            f"{snapshot['inputs']['recommendations']:,} recommendations and "
            f"{snapshot['inputs']['assessments']:,} assessments."
        )
        triggered = overall["triggered_action_pct"]
        self.stdout.write(
            f"{'No recommendation was assessed.' if triggered is None else f'{triggered}% triggered action'}"
            f" ({overall['assessed']:,} of {overall['recommendations']:,} recommendations assessed, coverage "
            f"{overall['coverage_pct'] if overall['coverage_pct'] is not None else '-'}%)."
        )
        width = max([12, *(len(group) for name in SHOWN for group in snapshot["by"][name])])
        self.stdout.write("")
        self.stdout.write(f"{'':<{width}} " + " ".join(f"{h:>11}" for h in HEADINGS))
        self._row("overall", overall, width)
        for name in SHOWN:
            self.stdout.write(name.replace("_", " "))
            for group, figures in snapshot["by"][name].items():
                self._row(f"  {group}", figures, width)
        self.stdout.write("Every breakdown (issues, states, sessions): --json.")

    def _row(self, label: str, figures: dict, width: int) -> None:
        cells = ("-" if figures[c] is None else f"{figures[c]:,}" for c in COLUMNS)
        self.stdout.write(f"{label:<{width}} " + " ".join(f"{cell:>11}" for cell in cells))
