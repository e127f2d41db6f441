"""Load test (issue 8): many concurrent clients against a real gunicorn, PostgreSQL, Redis and Celery worker on
loopback, on a mix of the search page, state pages, recommendation pages and the API. Prints throughput, latency
percentiles and errors, per kind of request and overall. Targets at 100,000 recommendations on 2 cores: no error,
p99 under 1 s, at least 150 requests per second.

    .venv/bin/python bench/load.py --database uprtrax_bench_100k                 # 64 clients, 60 s, 15 s warm-up
    .venv/bin/python bench/load.py --database uprtrax_bench_100k --clients 16 --seconds 20

The server is what production runs: gunicorn with docker/gunicorn.conf.py (WEB_CONCURRENCY processes of
GUNICORN_THREADS threads; both can be set in the environment), DEBUG off, the cache and the broker on Redis (its own
database number), one Celery worker. Its log goes to a file (named at the end). Every client comes from 127.0.0.1,
so the per-address rate limits (API, search, export, login) are raised out of the way; their check still runs on
every request. The clients are asyncio tasks in this process, each with its own keep-alive connection, sending the
next request as soon as the last answer is read (a closed loop): the throughput is what the server gives.

`kept`: the share of answers that came from the page cache (uprtrax/pagecache.py: pages and API reads kept for
visitors not signed in until the data changes); with UPRTRAX_PAGE_CACHE_SECONDS=0 in the environment every request
is rendered. `--urls`: how many addresses the mix draws (some repeat).

Warm-up: requests of the first seconds are sent but not counted. In them each gunicorn process reads the
reference tables and builds the search's facet bitmaps and word index (recommendations/bitmaps.py), as a server
does after a start; a search in the meantime takes the SQL path.
"""

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import code_version, database_url, machine  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 150.0, 1000.0
WORDS = ["torture", "women", "education", "death penalty", "children", "migrants", "ratify", "journalists",
         "disabilities", "trafficking", "corruption", "indigenous", "water", "health", "police"]  # fmt: skip


# --- The stack: gunicorn and a Celery worker on loopback ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database: str, redis: str, port: int) -> dict[str, str]:
    """Production settings for a server on loopback: DEBUG off, plain HTTP, the rate limits out of the way."""
    lifted = "1000000/second"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_MANIFEST": "0",  # no collectstatic here: files come from the finders
        "UPRTRAX_API_RATE_ANON": lifted,
        "UPRTRAX_API_RATE_TOKEN": lifted,
        "UPRTRAX_RATE_SEARCH": lifted,
        "UPRTRAX_RATE_EXPORT": lifted,
        "UPRTRAX_RATE_LOGIN": lifted,
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Stack:
    base: str  # http://127.0.0.1:<port>
    log: Path
    processes: list[subprocess.Popen] = field(default_factory=list)


def _wait_http(url: str, deadline: float, process: subprocess.Popen, log: Path) -> None:
    """Until `url` answers 200 (gunicorn has started and imported the application)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {process.returncode}); its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} in time; its log:\n{log.read_text()[-3000:]}")


@contextmanager
def stack(database: str, redis: str, *, worker: bool = True, log_dir: Path | None = None):
    """gunicorn (docker/gunicorn.conf.py) and, with `worker`, one Celery worker, on loopback; stopped on exit."""
    port = free_port()
    env = server_environment(database, redis, port)
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="uprtrax-load-"))
    log = log_dir / "server.log"
    out = log.open("ab")
    started = Stack(base=f"http://127.0.0.1:{port}", log=log)
    gunicorn = [sys.executable, "-m", "gunicorn", "uprtrax.wsgi:application", "--config", "docker/gunicorn.conf.py",
                "--bind", f"127.0.0.1:{port}", "--worker-tmp-dir", tempfile.gettempdir()]  # fmt: skip
    try:
        started.processes.append(subprocess.Popen(gunicorn, cwd=REPO, env=env, stdout=out, stderr=out))
        if worker:
            celery = [sys.executable, "-m", "celery", "-A", "uprtrax", "worker", "-l", "warning", "-c", "1",
                      "--without-gossip", "--without-mingle", "-n", f"load-{port}@%h"]  # fmt: skip
            started.processes.append(subprocess.Popen(celery, cwd=REPO, env=env, stdout=out, stderr=out))
        _wait_http(f"{started.base}/healthz", time.monotonic() + 60, started.processes[0], log)
        yield started
    finally:
        for process in started.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        out.close()


# --- The clients ---------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (connection refused, reset, timeout)
    ms: float
    error: str = ""
    kept: bool = False  # answered from the page cache (X-Page-Cache: hit)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bool]:
    """(status, whether the server keeps the connection, whether the page came from the page cache): the head, then
    the body by Content-Length or chunks."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:
        await reader.read()  # until the server closes
        return status, False, headers.get("x-page-cache") == "hit"
    return status, headers.get("connection", "").lower() != "close", headers.get("x-page-cache") == "hit"


async def _client(base: str, mix: list[tuple[str, str]], stop_at: float, count_from: float, samples: list,
                  rng: random.Random, timeout: float) -> None:  # fmt: skip
    """One client: a keep-alive connection, one request after another until `stop_at`; samples after `count_from`."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    reader = writer = None
    while time.monotonic() < stop_at:
        kind, path = rng.choice(mix)
        started = time.monotonic()
        status, error, kept = 0, "", False
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nUser-Agent: uprtrax-load\r\n\r\n"
            )
            writer.write(request.encode())
            await writer.drain()
            status, keep, kept = await asyncio.wait_for(_read_response(reader), timeout)
            if not keep:
                writer.close()
                reader = writer = None
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
            if writer is not None:
                writer.close()
            reader = writer = None
        if started >= count_from:
            samples.append(Sample(kind, status, (time.monotonic() - started) * 1000, error, kept))
    if writer is not None:
        writer.close()


async def _run(base: str, mix: list[tuple[str, str]], clients: int, seconds: float, warmup: float, seed: int,
               timeout: float) -> list[Sample]:  # fmt: skip
    samples: list[Sample] = []
    now = time.monotonic()
    count_from, stop_at = now + warmup, now + warmup + seconds
    rng = random.Random(seed)
    tasks = [
        _client(base, mix, stop_at, count_from, samples, random.Random(rng.random()), timeout) for _ in range(clients)
    ]
    await asyncio.gather(*tasks)
    return samples


def load_run(base: str, mix: list[tuple[str, str]], *, clients: int, seconds: float, warmup: float, seed: int = 1,
             timeout: float = 30.0) -> list[Sample]:  # fmt: skip
    """Send the mix from `clients` concurrent clients for `warmup` + `seconds`; the samples of the last `seconds`."""
    return asyncio.run(_run(base, mix, clients, seconds, warmup, seed, timeout))


# --- The mix -------------------------------------------------------------------------------------------------------

# Kind of request -> its share of the mix.
SHARES = {"search": 25, "state page": 15, "recommendation page": 30, "api": 30}


def request_mix(database: str, *, seed: int = 1, size: int = 2000) -> list[tuple[str, str]]:
    """(kind, path) pairs drawn from the data set, in SHARES: searches by word and by filter, pages of states and
    recommendations, and API lists and details."""
    import psycopg

    with psycopg.connect(database) as connection:
        states = [row[0] for row in connection.execute(
            "SELECT s.iso3 FROM reviews_state s WHERE EXISTS (SELECT 1 FROM reviews_review r WHERE r.state_id = s.id)"
        )]  # fmt: skip
        ids = [row[0] for row in connection.execute(
            "SELECT id FROM recommendations_recommendation ORDER BY random() LIMIT %s", [size]
        )]  # fmt: skip
        issues = [row[0] for row in connection.execute("SELECT slug FROM recommendations_issue")]
        sessions = [row[0] for row in connection.execute("SELECT DISTINCT number FROM reviews_session")]
    if not states or not ids:
        raise SystemExit("The data set is empty: build one first (bench/README.md).")
    rng = random.Random(seed)

    searches = [  # (weight, path maker)
        (40, lambda: f"/recommendations/?q={quote(rng.choice(WORDS))}"),
        (30, lambda: f"/recommendations/?sur={rng.choice(states)}&response={rng.choice(['accepted', 'noted'])}"),
        (15, lambda: f"/recommendations/?issue={rng.choice(issues)}&page={rng.randint(1, 5)}"),
        (15, lambda: f"/recommendations/?session={rng.choice(sessions)}&status=partially_implemented"),
    ]
    api = [
        (30, lambda: f"/api/v1/recommendations/?sur={rng.choice(states)}&page_size=50"),
        (20, lambda: f"/api/v1/recommendations/{rng.choice(ids)}/"),
        (15, lambda: f"/api/v1/assessments/?sur={rng.choice(states)}"),
        (10, lambda: f"/api/v1/recommendations/?q={quote(rng.choice(WORDS))}"),
        (10, lambda: f"/api/v1/states/{rng.choice(states)}/"),
        (15, lambda: "/api/v1/statistics/?breakdown=response"),
    ]

    def pick(table) -> str:
        return rng.choices([make for _, make in table], weights=[weight for weight, _ in table])[0]()

    makers = {
        "search": lambda: pick(searches),
        "state page": lambda: f"/states/{rng.choice(states)}/",
        "recommendation page": lambda: f"/recommendations/{rng.choice(ids)}/",
        "api": lambda: pick(api),
    }
    total = sum(SHARES.values())
    return [(kind, makers[kind]()) for kind, share in SHARES.items() for _ in range(size * share // total)]


# --- The report ----------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Figures:
    requests: int
    errors: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    kept: int


def figures(samples: list[Sample], seconds: float) -> Figures:
    times = [s.ms for s in samples]
    errors = sum(1 for s in samples if s.status == 0 or s.status >= 400)
    return Figures(len(samples), errors, len(samples) / seconds, percentile(times, 50), percentile(times, 95),
                   percentile(times, 99), max(times, default=0.0), sum(s.kept for s in samples))  # fmt: skip


def report(samples: list[Sample], seconds: float, out=sys.stdout) -> Figures:
    """A table per kind and overall; the errors' statuses and messages. Returns the overall figures."""
    print(f"  {'requests':<22} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7} {'kept':>6}", file=out)  # fmt: skip
    by_kind = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    rows = [(kind, figures(by_kind[kind], seconds)) for kind in SHARES if by_kind[kind]]
    overall = figures(samples, seconds)
    for kind, f in [*rows, ("all", overall)]:
        print(f"  {kind:<22} {f.requests:>7} {f.rps:>7.1f} {f.p50:>8.1f} {f.p95:>8.1f} {f.p99:>8.1f} {f.max:>8.1f} "
              f"{f.errors:>7} {f.kept / max(f.requests, 1):>6.0%}", file=out)  # fmt: skip
    problems = defaultdict(int)
    for sample in samples:
        if sample.status == 0 or sample.status >= 400:
            problems[(sample.kind, sample.status, sample.error)] += 1
    for (kind, status, error), count in sorted(problems.items(), key=lambda item: -item[1])[:10]:
        print(f"  ERROR x{count}: {kind}: {status or 'no answer'} {error}", file=out)
    return overall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="uprtrax_bench_100k", help="database name, or a full URL")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds sent but not counted")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8", help="the server's cache and broker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--urls", type=int, default=2000, help="distinct addresses in the mix (2000)")
    args = parser.parse_args()
    database = database_url(args.database)
    mix = request_mix(database, seed=args.seed, size=args.urls)
    workers, threads = os.environ.get("WEB_CONCURRENCY", "2"), os.environ.get("GUNICORN_THREADS", "4")
    print(f"load test on {urlsplit(database).path.lstrip('/')}: {args.clients} clients, {args.warmup:.0f} s warm-up, "
          f"{args.seconds:.0f} s measured; gunicorn {workers} processes x {threads} threads (docker/gunicorn.conf.py), "
          f"1 Celery worker; mix of {len(set(mix)):,} addresses: {', '.join(f'{k} {v}%' for k, v in SHARES.items())}; "
          f"page cache {os.environ.get('UPRTRAX_PAGE_CACHE_SECONDS', '300')} s")  # fmt: skip
    print(f"  code {code_version()}")
    print(f"  before: {machine()}")
    with stack(database, args.redis) as server:
        samples = load_run(server.base, mix, clients=args.clients, seconds=args.seconds, warmup=args.warmup,
                           seed=args.seed)  # fmt: skip
        print(f"  after: {machine()}; server log: {server.log}")
    overall = report(samples, args.seconds)
    held = overall.errors == 0 and overall.p99 < TARGET_P99_MS and overall.rps >= TARGET_RPS
    print(f"  targets (no error, p99 under {TARGET_P99_MS:.0f} ms, at least {TARGET_RPS:.0f} requests/s): "
          f"{'held' if held else 'NOT HELD'}: {overall.errors} errors, p99 {overall.p99:.0f} ms, "
          f"{overall.rps:.1f} requests/s")  # fmt: skip
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
