"""Celery tasks of the search: thin; the work is in recommendations.facets."""

from celery import shared_task


@shared_task(ignore_result=True)
def search_facets_warm() -> None:
    """Count the facets of the unfiltered search page into the cache, so that no visitor waits for them after the
    data changed (over a million recommendations that takes seconds), and the state and session lists' counts.
    Queued by search_data_changed(), a few seconds after the first of a burst of changes."""
    from recommendations.facets import search_facets_warm as warm
    from recommendations.facets import search_warm_started
    from reviews.selectors import browse_counts_warm

    search_warm_started()
    warm()
    browse_counts_warm()
