"""The schedule of an engagement, one session's page, and the calendar feed."""

from django.conf import settings
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
    SessionCancelForm,
    SessionForm,
    SharedNotesForm,
    validate_plausible_year,
)
from ..models import CalendarFeed, CoachingSession, Role
from ..services import sessions as service
from ..templatetags.coaching import hours
from .common import engagement_for_rule as _engagement_for
from .common import label_schedule, show_refusal


def _kinds(engagement):
    return workflow.bookable_kinds(engagement)


def _schedule_rows(engagement, sessions):
    """The schedule's rows (``label_schedule``), each with its length written out."""
    for session in label_schedule(engagement, sessions):
        session.length = hours(session.duration_minutes)
    return sessions


def _render_schedule(
    request, engagement, roles, *, session_form=None, series_form=None, preview=None
):
    is_coach = permissions.can_manage_sessions(roles)
    schedule = list(selectors.schedule_for(engagement, roles))
    # The full view lists every session: the counts come from the list.
    counts = selectors.session_counts(engagement, roles, schedule)
    remaining = engagement.sessions_contracted - counts["used"] - counts["planned"]
    kinds = _kinds(engagement)
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
            "sessions": _schedule_rows(engagement, schedule),
            "counts": counts,
            "kinds": kinds,
            "before_signature": workflow.allows(engagement, "edit_terms"),
            "session_form": session_form or SessionForm(kinds=kinds, initial=defaults),
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
            "preview_clashes": sum(1 for item in preview or () if item["clashes"]),
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
    one editable and marked when it clashes with another meeting of the
    coach; ``check`` marks the adjusted dates again; ``create`` books them.
    """
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_manage_sessions)
    form = SeriesForm(request.POST)
    if not form.is_valid():
        return _render_schedule(request, engagement, roles, series_form=form)
    data = form.cleaned_data
    action = request.POST.get("action")
    if action not in ("create", "check"):
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
        return _render_schedule(
            request,
            engagement,
            roles,
            series_form=form,
            preview=_preview(engagement, starts, data["duration_minutes"]),
        )
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
    preview = _preview(engagement, starts, data["duration_minutes"])
    if action == "check":
        return _render_schedule(request, engagement, roles, series_form=form, preview=preview)
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
        return _render_schedule(request, engagement, roles, series_form=form, preview=preview)
    messages.success(
        request,
        _("%(count)s sessions planned; the invitations are on their way.")
        % {"count": len(created)},
    )
    return redirect("sessions", pk=engagement.pk)


def _preview(engagement, starts, duration_minutes):
    """The dates of a series to check, each with the coach's meetings it would overlap."""
    if not starts:
        return starts
    clashes = selectors.coach_clashes(engagement, starts, duration_minutes)
    return [
        {"start": start, "clashes": found} for start, found in zip(starts, clashes, strict=True)
    ]


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
    return response


def _render_session(request, engagement, roles, session, *, reschedule_form=None):
    shared = getattr(session, "shared_summary", None)
    attendance_recorded = session.status in (
        CoachingSession.Status.HELD,
        CoachingSession.Status.MISSED,
    )
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
            "attendance_recorded": attendance_recorded,
            "correction_refusal": service.attendance_correction_refusal(session)
            if attendance_recorded and permissions.can_manage_sessions(roles)
            else "",
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


def _told_of_cancellation(engagement, roles, session):
    """The other parties of the meeting, told by e-mail (the sponsor of a tripartite one only)."""
    return [
        {"person": engagement.party_for(role), "role": Role(role).label}
        for role in permissions.meeting_parties(session)
        if role not in roles
    ]


def _render_cancel(request, engagement, roles, session, *, form=None, late_since=False):
    now = timezone.now()
    counts = selectors.session_counts(engagement)
    return render(
        request,
        "engagements/session_cancel.html",
        {
            "engagement": engagement,
            "session": session,
            "form": form or SessionCancelForm(),
            "late": session.cancellation_is_late(now),
            "late_since": late_since,
            "deadline": session.cancellation_deadline,
            "is_development": session.kind == CoachingSession.Kind.DEVELOPMENT,
            "counts": counts,
            "used_after": counts["used"] + 1,
            "told": _told_of_cancellation(engagement, roles, session),
        },
    )


@require_http_methods(["GET", "POST"])
def session_cancel(request, pk, session_id):
    """
    GET: what a cancellation would do (who is told, whether it counts as
    used), with an optional message. POST: cancel.
    """
    engagement, roles, session = _session(
        request, pk, session_id, permissions.can_change_own_sessions
    )
    detail = redirect("session_detail", pk=engagement.pk, session_id=session.pk)
    try:
        service.session_cancel_check(session=session, user=request.user)
    except ValidationError as error:
        show_refusal(request, error)
        return detail
    if request.method == "GET":
        return _render_cancel(request, engagement, roles, session)
    form = SessionCancelForm(request.POST)
    if not form.is_valid():
        return _render_cancel(request, engagement, roles, session, form=form)
    if request.POST.get("late") == "0" and session.cancellation_is_late(timezone.now()):
        # The page said it would not count; it would now: ask again.
        return _render_cancel(request, engagement, roles, session, form=form, late_since=True)
    try:
        session = service.session_cancel(
            session=session, user=request.user, message=form.cleaned_data["message"]
        )
    except ValidationError as error:
        show_refusal(request, error)
        return detail
    if session.cancelled_late and session.kind == CoachingSession.Kind.DEVELOPMENT:
        messages.warning(
            request,
            _("Session cancelled within the notice period: it counts as used."),
        )
    else:
        messages.success(request, _("Session cancelled."))
    return redirect("sessions", pk=engagement.pk)


def _render_attendance(request, engagement, session, form):
    counts = selectors.session_counts(engagement)
    recorded = session.status in (CoachingSession.Status.HELD, CoachingSession.Status.MISSED)
    return render(
        request,
        "engagements/session_attendance.html",
        {
            "engagement": engagement,
            "session": session,
            "form": form,
            "correction": recorded,
            "is_development": session.kind == CoachingSession.Kind.DEVELOPMENT,
            "counts": counts,
            # Recording (not correcting) a development session uses one more.
            "used_after": counts["used"] + (0 if recorded else 1),
            "correction_days": settings.ATTENDANCE_CORRECTION_DAYS,
            "correctable_until": session.attendance_correctable_until,
        },
    )


@require_http_methods(["GET", "POST"])
def session_attendance(request, pk, session_id):
    """
    GET: what recording (or correcting) the attendance means, the choice
    preselected by ``?status=``. POST: record it.
    """
    engagement, _roles, session = _session(request, pk, session_id, permissions.can_manage_sessions)
    detail = redirect("session_detail", pk=engagement.pk, session_id=session.pk)
    if request.method == "GET":
        refusal = _attendance_refusal(session)
        if refusal:
            messages.error(request, refusal)
            return detail
        wanted = request.GET.get("status")
        if wanted not in ("held", "missed"):
            wanted = None
        if session.status in ("held", "missed"):
            # A correction: the other choice, unless told otherwise.
            wanted = wanted or ("missed" if session.status == "held" else "held")
        return _render_attendance(
            request, engagement, session, AttendanceForm(initial={"status": wanted})
        )
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        return _render_attendance(request, engagement, session, form)
    correction = session.status != CoachingSession.Status.PLANNED
    try:
        session = service.session_attendance_record(
            session=session, coach=request.user, status=form.cleaned_data["status"]
        )
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request, _("Attendance corrected.") if correction else _("Attendance recorded.")
        )
    return detail


def _attendance_refusal(session):
    """Why the attendance of ``session`` cannot be recorded or corrected now, or ''."""
    if session.status == CoachingSession.Status.CANCELLED:
        return _("This session was cancelled.")
    if session.starts_at > timezone.now():
        return _("Attendance is recorded once the session has begun.")
    if session.status != CoachingSession.Status.PLANNED:
        return service.attendance_correction_refusal(session)
    return ""


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
    # Cache-Control: private, no-store, like every answer (NoStoreMiddleware):
    # no HTTP cache keeps it; the calendar program asks again with the validators.
    return response
