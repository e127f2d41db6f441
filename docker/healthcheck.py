"""Health probe of the web container: GET a URL of the local gunicorn, exit 0 on a 2xx answer, 1 otherwise.

Django refuses a Host header that ALLOWED_HOSTS does not list (400), so the probe presents the first allowed
host rather than 127.0.0.1. Usage: python docker/healthcheck.py http://127.0.0.1:8000/healthz
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """A Host header that the ALLOWED_HOSTS value (comma-separated, as in .env) accepts."""
    for entry in allowed_hosts.split(","):
        host = entry.strip()
        if host == "*" or not host:
            continue
        # ".example.org" allows example.org and its subdomains.
        return host.lstrip(".")
    return "localhost"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: healthcheck.py URL", file=sys.stderr)
        return 2
    request = urllib.request.Request(  # noqa: S310 - the URL is the container's own, given by Compose
        argv[0], headers={"Host": probe_host(os.environ.get("ALLOWED_HOSTS", ""))}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status = response.status
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {argv[0]}: {exc}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
