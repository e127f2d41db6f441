"""A refused write answers with a page that says why, in the site's layout."""

import pytest
from django.urls import reverse

from tests.followup.cast import logged_in, page_text

pytestmark = pytest.mark.django_db


def test_a_refused_write_says_why_and_where_to_go(client, cast, recommendation):
    url = reverse("assessing:record", args=[recommendation.pk])
    response = logged_in(client, cast.member_b).post(
        url, {"organisation": cast.org_a.slug, "status": "fully_implemented"}
    )
    assert response.status_code == 403
    text = page_text(response)
    assert "Not allowed" in text and "member_b" in text
    assert "uprtrax" in text  # the site's own layout, not the server's bare page
