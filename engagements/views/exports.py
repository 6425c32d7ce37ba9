"""HR's export of signed conventions: streamed when small, built in the background when large."""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import permissions, selectors
from ..auth import client_ip
from ..forms import HRFilterForm
from ..middleware import portals_refresh
from ..models import ConventionExport, Role
from ..services import exports


def _require_hr(request):
    # Asked of the database, not of the session: an export is a whole
    # organization's file, closed the moment the person is no longer HR.
    if Role.HR not in portals_refresh(request):
        raise Http404


@require_http_methods(["GET", "POST"])
def hr_export(request):
    """
    The signed conventions of HR's organizations, with the HR page's filters:
    a ZIP at once when there are few, else a confirmation, then a ZIP built
    in the background.
    """
    _require_hr(request)
    form = HRFilterForm(request.GET or None)
    back = reverse("hr_portal") + ("?" + request.GET.urlencode() if request.GET else "")
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(back)
    filters = form.filters()
    count = exports.export_count(user=request.user, filters=filters)
    if count == 0:
        messages.info(request, _("No signed convention matches these filters."))
        return redirect(back)
    if request.method == "POST":
        export = exports.export_start(
            user=request.user, filters=filters, ip_address=client_ip(request)
        )
        return redirect("convention_export", export.pk)
    if count > settings.EXPORT_STREAM_LIMIT:
        return render(
            request,
            "engagements/export_confirm.html",
            {"count": count, "form": form, "back": back, "portal": Role.HR},
        )
    response = StreamingHttpResponse(
        exports.export_stream(user=request.user, filters=filters, ip_address=client_ip(request)),
        content_type="application/zip",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="conventions-signees-{stamp}.zip"'
    return response


def _export_for(request, pk):
    """The export, to the person who asked for it while they may still export."""
    export = selectors.convention_export_for(request.user, pk)
    if export is None:
        raise Http404
    if export.all_organizations:
        if not permissions.can_export_all_organizations(request.user):
            raise Http404
    else:
        _require_hr(request)
    return export


@require_GET
def convention_export(request, pk):
    """Where a large export stands: a progress bar (htmx polling), then the link."""
    export = _export_for(request, pk)
    context = {
        "export": export,
        "downloadable": export.is_downloadable(timezone.now()),
        "working": export.status
        in (ConventionExport.Status.PENDING, ConventionExport.Status.RUNNING),
        "portal": Role.HR,
        "filters": urlencode(export.filters, doseq=True),
    }
    template = (
        "engagements/_export_progress.html"
        if request.headers.get("HX-Request")
        else "engagements/export.html"
    )
    response = render(request, template, context)
    return response


@require_GET
def convention_export_download(request, pk):
    export = _export_for(request, pk)
    if not export.is_downloadable(timezone.now()):
        messages.info(request, _("This download link has expired. Export again if you need to."))
        return redirect("convention_export", export.pk)
    exports.export_download_log(user=request.user, export=export, ip_address=client_ip(request))
    stamp = timezone.localtime(export.finished_at).date().isoformat()
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=f"conventions-signees-{stamp}-{export.pk}.zip",
        content_type="application/zip",
    )
    return response
