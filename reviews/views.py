"""Public pages for states and sessions."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from followup.selectors import state_statistics, statistics_stamp
from reviews import selectors
from reviews.models import Cycle, Session, State
from uprtrax.pagecache import anonymous_page_cache


@anonymous_page_cache
def state_list(request):
    return render(request, "reviews/state_list.html", {"states": selectors.state_list_with_counts()})


@anonymous_page_cache(also=statistics_stamp)
def state_detail(request, iso3: str):
    if not (len(iso3) == 3 and iso3.isascii() and iso3.isalpha()):
        shown = f" '{iso3[:20]}'" if iso3.isprintable() else ""
        raise Http404(f"No state with code{shown}: a state's code is three letters, such as FRA.")
    if iso3 != iso3.upper():
        return redirect("reviews:state_detail", iso3=iso3.upper(), permanent=True)
    try:
        state = selectors.state_get(iso3=iso3)
    except State.DoesNotExist:
        raise Http404(f"No state with code '{iso3}'.") from None
    profile = selectors.state_profile(state=state)
    made = profile["made"]["tally"]
    context = {
        "state": state,
        "reviews": selectors.state_reviews_with_counts(state=state),
        "profile": profile,
        "made": {"total": made.total, "accepted": made.accepted, "noted": made.noted, "pending": made.pending},
        "statistics": state_statistics(iso3=state.iso3),
    }
    return render(request, "reviews/state_detail.html", context)


@anonymous_page_cache
def session_list(request):
    return render(request, "reviews/session_list.html", {"sessions": selectors.session_list_with_counts()})


@anonymous_page_cache
def session_detail(request, number: int):
    try:
        session = selectors.session_get(number=number)
    except Session.DoesNotExist:
        raise Http404(f"There is no UPR session {number} in uprtrax.") from None
    reviews = selectors.session_reviews_with_counts(session=session)
    context = {"session": session, "reviews": reviews, "total": selectors.tally_total(reviews)}
    return render(request, "reviews/session_detail.html", context)


def session_next(request):
    session = selectors.session_next(today=timezone.localdate())
    if session is None:
        return render(request, "reviews/session_prepare.html", {"session": None}, status=404)
    return redirect("reviews:session_prepare", number=session.number)


def session_prepare(request, number: int):
    try:
        session = selectors.session_get(number=number)
    except Session.DoesNotExist as missing:
        raise Http404(str(missing)) from None
    context = {"session": session, "preparation": selectors.session_preparation(session=session)}
    return render(request, "reviews/session_prepare.html", context)


@anonymous_page_cache
def cycle_list(request):
    return render(request, "reviews/cycle_list.html", {"cycles": selectors.cycle_list_with_counts()})


@anonymous_page_cache
def cycle_detail(request, number: int):
    try:
        cycle = selectors.cycle_with_counts(number=number)
    except Cycle.DoesNotExist:
        raise Http404(f"There is no UPR cycle {number} in uprtrax.") from None
    return render(request, "reviews/cycle_detail.html", {"cycle": cycle})
