"""demo_setup: what `make run` does before serving, on a fresh machine or an old one. Idempotent.

Reference data, a demo data set generated once, and a demo superuser whose random password is kept in the
git-ignored file .demo-login at the repository root. DEBUG only: demo credentials never reach production.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from recommendations.dataset import dataset_generate
from recommendations.models import Recommendation

DEMO_USERNAME = "admin"
DEMO_RECOMMENDATIONS = 20_000
DEMO_ASSESSMENTS = 30_000
DEMO_SEED = 2026


class DemoSetupRefused(Exception):
    """demo_setup was asked for with DEBUG off."""


@dataclass(frozen=True)
class DemoSetupResult:
    reference_data: dict[str, int]
    dataset: dict | None  # the generator's summary, or None when the database already held recommendations
    username: str
    password: str
    admin: str  # "created", "updated" (password or rights restored) or "unchanged"

    def login_line(self, base_url: str = "http://127.0.0.1:8000") -> str:
        return f"Demo admin login: {self.username} / {self.password}  ({base_url}/admin/)"


def demo_login_file() -> Path:
    return Path(settings.BASE_DIR) / ".demo-login"


def demo_setup(
    *,
    login_file: Path | None = None,
    recommendations: int = DEMO_RECOMMENDATIONS,
    assessments: int = DEMO_ASSESSMENTS,
    seed: int = DEMO_SEED,
) -> DemoSetupResult:
    """Prepare the demo: load the reference data, generate the demo data set if there are no recommendations
    yet, and make sure the demo superuser exists with the password kept in `login_file`."""
    if not settings.DEBUG:
        raise DemoSetupRefused(
            "demo_setup runs only with DEBUG on (DJANGO_DEBUG=1): demo credentials must never reach production."
        )
    from reviews.services import reference_data_load

    login_file = demo_login_file() if login_file is None else login_file
    reference = reference_data_load()
    dataset = None
    if not Recommendation.objects.exists():
        dataset = dataset_generate(recommendations=recommendations, assessments=assessments, seed=seed)
    password = _demo_password(login_file)
    admin = _demo_admin_ensure(password)
    return DemoSetupResult(
        reference_data=reference, dataset=dataset, username=DEMO_USERNAME, password=password, admin=admin
    )


def _demo_password(login_file: Path) -> str:
    """The password kept in `login_file`; a new random one, written there, when the file is missing or empty."""
    if login_file.exists():
        password = login_file.read_text(encoding="utf-8").strip()
        if password:
            return password
    password = secrets.token_urlsafe(12)
    # Readable by its owner only: it logs into the local admin.
    descriptor = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return password


@transaction.atomic
def _demo_admin_ensure(password: str) -> str:
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=DEMO_USERNAME).first()
    if user is None:
        user_model.objects.create_superuser(DEMO_USERNAME, email="admin@example.org", password=password)
        return "created"
    changed = not (user.is_active and user.is_staff and user.is_superuser)
    user.is_active = user.is_staff = user.is_superuser = True
    if not user.check_password(password):
        user.set_password(password)
        changed = True
    if changed:
        user.save()
        return "updated"
    return "unchanged"
