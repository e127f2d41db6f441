from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError

from uprtrax.ops.backup import BackupError, database_backup


def _at_least_one(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} kB"


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database with pg_dump (custom format, for pg_restore) to a file, or to a directory "
        "(default UPRTRAX_BACKUP_DIR) as uprtrax-<UTC time>.dump. Exits 1, leaving no file, when it fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "destination",
            nargs="?",
            help="a file to create, or a directory (existing, or written with a trailing slash); default: the "
            "backups directory (UPRTRAX_BACKUP_DIR)",
        )
        parser.add_argument(
            "--keep",
            type=_at_least_one,
            metavar="N",
            help="afterwards, keep only the N newest uprtrax-*.dump backups of the directory (other files stay)",
        )
        parser.add_argument("--pg-dump", metavar="PATH", help="the pg_dump to run (default: pg_dump on PATH)")

    def handle(self, *args, **options):
        try:
            backup = database_backup(
                destination=options["destination"], keep=options["keep"], pg_dump=options["pg_dump"]
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backed up database {backup.database} (PostgreSQL {backup.server_version}) to {backup.path}: "
            f"{_size(backup.size)} in {backup.seconds:.1f} s."
        )
        for path in backup.removed:
            self.stdout.write(f"Removed the older backup {path}.")
