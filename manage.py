#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that read only the code (models and migrations), never a secret: they run without DJANGO_SECRET_KEY,
# so that `manage.py makemigrations --check` works on a bare checkout. Everything else still requires the key.
KEYLESS_COMMANDS = {"makemigrations"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("DJANGO_SECRET_KEY", "makemigrations-only-not-a-secret")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
