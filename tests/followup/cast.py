"""What the follow-up tests share: the cast's names (the `cast` fixture of tests/conftest.py), a test client logged
in as one of them, a page's text as a person reads it, and what a denied write must leave as it was."""

import datetime
import html
import re

from followup.models import Assessment

CAST = ("anonymous", "member_a", "editor_a", "admin_a", "member_b", "moderator", "admin")
# After France's review at session 15 (2013), within its mid-term (no next review recorded: five years later).
DAY = datetime.date(2015, 6, 1)


def logged_in(client, user):
    """The client, logged in as `user` (None: left anonymous)."""
    if user is not None:
        client.force_login(user)
    return client


def page_text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def assessments_snapshot() -> list[dict]:
    """Every assessment and every history record: what a denied write must leave as it was."""
    return [*Assessment.objects.order_by("pk").values(), *Assessment.history.order_by("history_id").values()]
