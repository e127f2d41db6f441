"""python manage.py build_dumps [--keep N] [--json]: build the public data dump now (what the nightly Celery job
does), serve it at /dumps/, and print its files."""

import json

from django.core.management.base import BaseCommand, CommandError

from followup.dumps.build import dumps_build, dumps_root
from followup.models import JobTrigger


class Command(BaseCommand):
    help = (
        "Build the public data dump now (gzipped CSV per table and one JSON Lines file, as the nightly job does), "
        "serve it at /dumps/ and /api/v1/dumps/, and print its files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, help="dumps kept on disk, the newest served (UPRTRAX_DUMPS_KEEP)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the manifest as JSON")

    def handle(self, *args, keep, as_json, **options):
        if keep is not None and keep < 1:
            raise CommandError(f"--keep {keep}: keep at least the dump just built (1).")
        try:
            dump = dumps_build(keep=keep, trigger=JobTrigger.COMMAND)
        except Exception as error:
            raise CommandError(f"The dump failed, the previous one stays served: {error}") from error
        if dump is None:
            raise CommandError("Another dump is being built right now: nothing done. Try again when it is finished.")
        if as_json:
            self.stdout.write(json.dumps(dump.manifest, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"Data dump #{dump.pk} of the data as of {dump.data_as_of:%Y-%m-%d %H:%M:%S %Z}, written in "
            f"{dump.duration_seconds:.1f} s to {dumps_root() / dump.directory}:"
        )
        for entry in dump.manifest["files"]:
            self.stdout.write(
                f"  {entry['name']:<42} {entry['rows']:>11,} rows {_size(entry['bytes']):>10} "
                f"({_size(entry['bytes_uncompressed'])} unzipped)  sha256 {entry['sha256'][:16]}…"
            )
        self.stdout.write(f"Served at /dumps/<name>, described at /api/v1/dumps/ ({_size(dump.size)} in all).")


def _size(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.1f} KB"
