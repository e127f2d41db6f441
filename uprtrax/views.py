from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from recommendations.selectors import headline_counts, issue_list
from reviews.selectors import session_list_latest
from uprtrax.ops.readiness import readiness_report
from uprtrax.pagecache import anonymous_page_cache


@anonymous_page_cache
def home(request):
    """The front page: what uprtrax is, headline figures, ways into browsing and the latest sessions."""
    context = {"counts": headline_counts(), "issues": issue_list(), "latest_sessions": session_list_latest()}
    return render(request, "home.html", context)


@never_cache
@require_safe
def healthz(request):
    """Liveness for the load balancer and Compose: the process answers. No database, no broker: /readyz checks those."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def readyz(request):
    """Readiness for a load balancer or a monitor: the database, Redis and a worker heartbeat, each reported as JSON
    (uprtrax/ops/readiness.py); 200 when none failed, 503 otherwise, within about two seconds whatever hangs. No
    session, no CSRF token, no write."""
    report = readiness_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
