"""Wait until the configured database accepts connections, or fail after a timeout.

Run by docker/entrypoint.sh before the container's command. Exit status 0: reachable; 1: not within the timeout.
"""

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait in all (default 60)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two attempts (default 1)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    import django
    from django.db import connection
    from django.db.utils import OperationalError

    django.setup()
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if time.monotonic() >= deadline:
                print(f"wait_for_db: database not reachable after {args.timeout:g}s: {exc}", file=sys.stderr)
                return 1
            time.sleep(args.interval)
        else:
            connection.close()
            return 0


if __name__ == "__main__":
    sys.exit(main())
