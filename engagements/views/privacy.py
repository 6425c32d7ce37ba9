"""The signed-in person's privacy page, and the coachee's own data as a ZIP."""

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from .. import archives
from ..auth import client_ip
from ..services import privacy


@require_GET
def privacy_page(request):
    """What is kept and for how long; for a coachee, her data to download."""
    periods = privacy.retention_periods()
    return render(
        request,
        "engagements/privacy.html",
        {
            "periods": periods,
            "months": round(periods["session_notes_days"] / 30.44),
            "years": {name: round(days / 365, 1) for name, days in periods.items()},
            "can_download": privacy.has_own_data(request.user),
        },
    )


@require_GET
def privacy_archive(request):
    """The coachee's own data (data.json and her PDFs) streamed as a ZIP; each download logged."""
    if not privacy.has_own_data(request.user):
        raise Http404
    privacy.own_data_download_log(user=request.user, ip_address=client_ip(request))
    build = privacy.own_data_archive(user=request.user, language=get_language())
    response = StreamingHttpResponse(archives.stream(build), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="mes-donnees-trio.zip"'
    return response
