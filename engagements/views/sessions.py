"""The schedule of an engagement, one session's page, and the calendar feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import calendar, permissions, selectors, workflow
from ..calendar import PARIS, cached_feed, feed, feed_validators, feed_window
from ..forms import (
    AttendanceForm,
    AvailabilityForm,
    PrivateNoteForm,
    RescheduleForm,
    SeriesForm,
    SessionForm,
    SharedNotesForm,
    validate_plausible_year,
)
from ..models import CalendarFeed, Role
from ..services import sessions as service
from .common import engagement_for_rule as _engagement_for
from .common import show_refusal


def _kinds(engagement):
    return workflow.bookable_kinds(engagement)


def _render_schedule(
    request, engagement, roles, *, session_form=None, series_form=None, preview=None
):
    is_coach = permissions.can_manage_sessions(roles)
    counts = selectors.session_counts(engagement)
    remaining = engagement.sessions_contracted - counts["used"] - counts["planned"]
    defaults = {
        "duration_minutes": engagement.session_minutes,
        "format": engagement.format,
    }
    return render(
        request,
        "engagements/sessions.html",
        {
            "engagement": engagement,
            "is_coach": is_coach,
            "sessions": selectors.sessions_for(engagement, roles),
            "counts": counts,
            "kinds": _kinds(engagement),
            "before_signature": workflow.allows(engagement, "edit_terms"),
            "session_form": session_form or SessionForm(kinds=_kinds(engagement), initial=defaults),
            "series_form": series_form
            or SeriesForm(
                initial={
                    **defaults,
                    "first_day": timezone.localdate(),
                    "at": "09:30",
                    "count": max(remaining, 1),
                }
            ),
            "preview": preview,
            "availability_form": AvailabilityForm(
                initial={"availability": engagement.coachee_availability}
            ),
        },
    )


@require_GET
def sessions(request, pk):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_change_own_sessions)
    return _render_schedule(request, engagement, roles)


@require_POST
def session_new(request, pk):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_manage_sessions)
    form = SessionForm(request.POST, kinds=_kinds(engagement))
    if form.is_valid():
        try:
            service.session_schedule(engagement=engagement, coach=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Session planned; the invitations are on their way."))
            return redirect("sessions", pk=engagement.pk)
    return _render_schedule(request, engagement, roles, session_form=form)


@require_POST
def series(request, pk):
    """
    Plan a series in two steps: ``preview`` shows the computed dates, each
    one editable; ``create`` books the dates as they were adjusted.
    """
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_manage_sessions)
    form = SeriesForm(request.POST)
    if not form.is_valid():
        return _render_schedule(request, engagement, roles, series_form=form)
    data = form.cleaned_data
    if request.POST.get("action") != "create":
        try:
            starts = service.series_plan(
                first_day=data["first_day"],
                weekday=data["weekday"],
                at=data["at"],
                count=data["count"],
                every_weeks=data["every_weeks"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
            starts = None
        return _render_schedule(request, engagement, roles, series_form=form, preview=starts)
    starts = []
    for value in request.POST.getlist("start"):
        try:
            moment = parse_datetime(value) if value else None
            validate_plausible_year(moment)
        except (ValueError, ValidationError):  # impossible (30 February) or implausible
            moment = None
        if moment is None:
            form.add_error(None, _("Each date of the series must be a valid date and time."))
            return _render_schedule(request, engagement, roles, series_form=form, preview=[])
        starts.append(timezone.make_aware(moment, PARIS) if timezone.is_naive(moment) else moment)
    try:
        created = service.series_create(
            engagement=engagement,
            coach=request.user,
            starts=starts,
            duration_minutes=data["duration_minutes"],
            format=data["format"],
            location=data["location"],
            video_url=data["video_url"],
        )
    except ValidationError as error:
        show_refusal(request, error, form=form)
        return _render_schedule(request, engagement, roles, series_form=form, preview=starts)
    messages.success(
        request,
        _("%(count)s sessions planned; the invitations are on their way.")
        % {"count": len(created)},
    )
    return redirect("sessions", pk=engagement.pk)


def _session(request, pk, session_id, rule):
    engagement, roles = _engagement_for(request, pk, rule=rule)
    session = get_object_or_404(selectors.sessions_for(engagement, roles), pk=session_id)
    return engagement, roles, session


@require_GET
def session_detail(request, pk, session_id):
    engagement, roles, session = _session(
        request, pk, session_id, permissions.can_change_own_sessions
    )
    return _render_session(request, engagement, roles, session)


@require_GET
def session_ics(request, pk, session_id):
    """The meeting's calendar file, for the person's own calendar program."""
    _engagement, roles, session = _session(
        request, pk, session_id, permissions.can_change_own_sessions
    )
    role = Role.COACH if permissions.can_manage_sessions(roles) else Role.COACHEE
    content = calendar.invitation(session, role=role, language=request.LANGUAGE_CODE)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    day = timezone.localtime(session.starts_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="seance-{day}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


def _render_session(request, engagement, roles, session, *, reschedule_form=None):
    shared = getattr(session, "shared_summary", None)
    note = (
        getattr(session, "private_note", None)
        if permissions.can_view_private_notes(roles)
        else None
    )
    return render(
        request,
        "engagements/session_detail.html",
        {
            "engagement": engagement,
            "session": session,
            "is_coach": permissions.can_manage_sessions(roles),
            "can_view_private_notes": permissions.can_view_private_notes(roles),
            "started": session.starts_at <= timezone.now(),
            "reschedule_form": reschedule_form
            or RescheduleForm(
                initial={
                    "starts_at": timezone.localtime(session.starts_at),
                    "duration_minutes": session.duration_minutes,
                }
            ),
            "shared_form": SharedNotesForm(
                initial={
                    "summary": shared.summary if shared else "",
                    "action_plan": shared.action_plan if shared else "",
                }
            ),
            "private_form": PrivateNoteForm(initial={"private_note": note.body if note else ""}),
        },
    )


@require_POST
def session_reschedule(request, pk, session_id):
    engagement, roles, session = _session(
        request, pk, session_id, permissions.can_change_own_sessions
    )
    form = RescheduleForm(request.POST)
    if form.is_valid():
        try:
            service.session_reschedule(session=session, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Session moved; everyone invited has the new time."))
            return redirect("session_detail", pk=engagement.pk, session_id=session.pk)
    return _render_session(request, engagement, roles, session, reschedule_form=form)


@require_POST
def session_cancel(request, pk, session_id):
    engagement, _roles, session = _session(
        request, pk, session_id, permissions.can_change_own_sessions
    )
    try:
        session = service.session_cancel(session=session, user=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        if session.cancelled_late:
            messages.warning(
                request,
                _("Session cancelled within the notice period: it counts as used."),
            )
        else:
            messages.success(request, _("Session cancelled."))
    return redirect("sessions", pk=engagement.pk)


@require_POST
def session_attendance(request, pk, session_id):
    engagement, _roles, session = _session(request, pk, session_id, permissions.can_manage_sessions)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Attendance is either held or missed."))
    else:
        try:
            service.session_attendance_record(
                session=session, coach=request.user, status=form.cleaned_data["status"]
            )
        except ValidationError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Attendance recorded."))
    return redirect("session_detail", pk=engagement.pk, session_id=session.pk)


@require_POST
def session_notes(request, pk, session_id):
    engagement, _roles, session = _session(
        request, pk, session_id, permissions.can_view_shared_summaries
    )
    values = {}
    if "private_note" in request.POST:
        form = PrivateNoteForm(request.POST)
        if form.is_valid():
            values["private_note"] = form.cleaned_data["private_note"]
    else:
        form = SharedNotesForm(request.POST)
        if form.is_valid():
            values.update(form.cleaned_data)
    try:
        if not values:
            raise ValidationError(_("Nothing to save."))
        service.session_notes_save(session=session, user=request.user, **values)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("session_detail", pk=engagement.pk, session_id=session.pk)


@require_POST
def availability_request(request, pk):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_manage_sessions)
    try:
        service.availability_request(engagement=engagement, coach=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The coachee has been asked for their availability."))
    return redirect("sessions", pk=engagement.pk)


@require_POST
def availability_save(request, pk):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_give_availability)
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            service.availability_save(
                engagement=engagement,
                coachee=request.user,
                availability=form.cleaned_data["availability"],
            )
        except ValidationError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Your coach will see your availability."))
    else:
        messages.error(request, " ".join(m for e in form.errors.values() for m in e))
    return redirect("sessions", pk=engagement.pk)


# -- calendar feed -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    """The person's private calendar address: show it, renew it or switch it off."""
    if not request.portals:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            service.calendar_feed_revoke(user=request.user)
            messages.success(request, _("Your calendar address no longer works."))
        else:
            service.calendar_feed_renew(user=request.user)
            messages.success(
                request, _("New calendar address created; the previous one no longer works.")
            )
        return redirect("calendar_settings")
    current = CalendarFeed.objects.filter(user=request.user).first()
    url = (
        request.build_absolute_uri(reverse("calendar_feed", args=[current.token]))
        if current
        else None
    )
    return render(request, "engagements/calendar_settings.html", {"feed": current, "feed_url": url})


@login_not_required
@require_GET
def calendar_feed(request, token):
    """
    The feed itself: public by its secret token, which the person can renew.
    Calendar programs poll it: an unchanged feed answers 304 from one query,
    and a changed one is built once for everyone polling it.
    """
    current = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if current is None or not current.user.is_active:
        raise Http404
    user = current.user
    window = feed_window()
    etag, last_modified = feed_validators(user, window, selectors.calendar_version(user, window))
    response = get_conditional_response(
        request, etag=quote_etag(etag), last_modified=int(last_modified.timestamp())
    )
    if response is None:
        content = cached_feed(
            user, etag, lambda: feed(user, selectors.calendar_sessions_for(user, window))
        )
        response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="trio.ics"'
    response["ETag"] = quote_etag(etag)
    response["Last-Modified"] = http_date(last_modified.timestamp())
    # Confidential like every answer of the app: no HTTP cache keeps it. The
    # person's calendar program keeps its events and asks again with the
    # validators above.
    response["Cache-Control"] = "private, no-store"
    return response
