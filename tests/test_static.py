"""Static files in production: collectstatic, run as the image build runs it (the Dockerfile's environment: nothing
but its dummy key), succeeds and writes every asset under a name that holds its content's hash, with gzip and Brotli
copies beside it; WhiteNoise serves a hashed file compressed and cached for good (`immutable`), an unhashed one
briefly. In a fresh interpreter with the production settings (DJANGO_STATIC_MANIFEST on by default outside DEBUG),
collecting into a temporary STATIC_ROOT."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

COLLECT_AND_SERVE = """
import json, sys, django
django.setup()
from django.conf import settings
settings.STATIC_ROOT = sys.argv[1]
settings.ALLOWED_HOSTS = ["testserver"]
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
from django.templatetags.static import static
from django.test import Client
client = Client()  # over HTTPS, as production redirects plain HTTP
served = {}
for name, encoding in [("css/app.css", "br, gzip"), ("css/app.css", "gzip"), ("css/app.css", ""),
                       ("js/app.js", "gzip, deflate, br")]:
    response = client.get(static(name), HTTP_ACCEPT_ENCODING=encoding, secure=True)
    served[f"{name} {encoding}"] = {
        "url": static(name), "status": response.status_code, "cache": response.get("Cache-Control", ""),
        "encoding": response.get("Content-Encoding", ""), "vary": response.get("Vary", ""),
    }
plain = client.get("/static/css/app.css", secure=True)  # the name without its hash: served, not for long
served["unhashed"] = {"status": plain.status_code, "cache": plain.get("Cache-Control", "")}
print(json.dumps({"storage": settings.STORAGES["staticfiles"]["BACKEND"], "served": served}))
"""


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("staticfiles")
    (build_key,) = re.findall(r"^ARG COLLECTSTATIC_SECRET_KEY=(\S+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    env = {  # the build's: the manifest storage fails on a missing asset
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
        "DJANGO_SECRET_KEY": build_key,
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", COLLECT_AND_SERVE, str(root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root, json.loads(result.stdout.strip().splitlines()[-1])


def test_production_stores_static_files_with_whitenoises_compressed_manifest(collected):
    _, report = collected

    assert report["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_every_asset_gets_a_hashed_name_with_gzip_and_brotli_copies(collected):
    root, _ = collected
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    own = [path.relative_to(REPO / "static").as_posix() for path in (REPO / "static").rglob("*") if path.is_file()]

    assert own and set(own) <= set(manifest)
    assert "admin/css/base.css" in manifest  # the apps' assets too
    for name in ("css/app.css", "js/app.js", "vendor/htmx/htmx-2.0.11.min.js"):
        hashed = manifest[name]
        stem, _, suffix = name.rpartition(".")
        assert hashed.startswith(stem + ".") and hashed.endswith("." + suffix) and hashed != name
        assert (root / hashed).is_file()
        assert (root / f"{hashed}.gz").is_file(), f"{hashed}: no gzip copy"
        assert (root / f"{hashed}.br").is_file(), f"{hashed}: no Brotli copy (is the Brotli package installed?)"
        assert (root / f"{hashed}.br").stat().st_size < (root / f"{hashed}.gz").stat().st_size


def test_a_hashed_file_is_served_compressed_and_cached_for_good(collected):
    _, report = collected
    served = report["served"]

    brotli, gzip, identity = served["css/app.css br, gzip"], served["css/app.css gzip"], served["css/app.css "]
    assert brotli["url"].startswith("/static/css/app.") and brotli["url"] != "/static/css/app.css"
    assert [brotli["status"], gzip["status"], identity["status"]] == [200, 200, 200]
    assert (brotli["encoding"], gzip["encoding"], identity["encoding"]) == ("br", "gzip", "")
    assert "Accept-Encoding" in brotli["vary"]
    for response in (brotli, gzip, identity, served["js/app.js gzip, deflate, br"]):
        assert response["cache"] == "max-age=315360000, public, immutable"


def test_a_file_asked_for_by_its_unhashed_name_is_cached_only_briefly(collected):
    unhashed = collected[1]["served"]["unhashed"]

    assert unhashed["status"] == 200
    assert "immutable" not in unhashed["cache"]
    assert unhashed["cache"] == "max-age=60, public"
