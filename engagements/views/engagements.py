"""The engagement page; opening an engagement, changing its terms, and ending it early."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import capfirst
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import charts, permissions, selectors, workflow
from ..auth import client_ip
from ..forms import CancelForm, EngagementOpenForm, EngagementTermsForm, WithdrawForm
from ..models import CoachingSession, Convention, Engagement, ObjectiveScore, SponsorReport
from ..permissions import SessionView
from ..services import privacy
from ..services.engagements import (
    Person,
    engagement_cancel,
    engagement_open,
    engagement_terms_update,
    engagement_withdraw,
)
from ..templatetags.french_dates import date
from .common import engagement_for_rule, label_schedule, show_refusal


def _person(data, prefix):
    return Person(
        email=data[f"{prefix}_email"],
        first_name=data[f"{prefix}_first_name"],
        last_name=data[f"{prefix}_last_name"],
        job_title=data[f"{prefix}_job_title"],
    )


@require_http_methods(["GET", "POST"])
def engagement_new(request):
    coach = selectors.active_coach(request.user)
    if coach is None:
        raise Http404
    form = EngagementOpenForm(
        request.POST if request.method == "POST" else None,
        organizations=selectors.coach_organizations(coach),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            engagement = engagement_open(
                coach=coach,
                organization=data["organization"],
                new_organization_name=data["new_organization_name"],
                coachee=_person(data, "coachee"),
                sponsor=_person(data, "sponsor"),
                title=data["title"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                sessions_contracted=data["sessions_contracted"],
                session_minutes=data["session_minutes"],
                format=data["format"],
                fee_amount=data["fee_amount"],
                language=data["language"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Engagement created. The coachee and the sponsor have been invited."),
            )
            return redirect(engagement)
    return render(request, "engagements/engagement_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def engagement_withdraw_view(request, pk):
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_withdraw)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_withdraw(
                engagement=engagement,
                coachee=request.user,
                closing_session_wanted=form.cleaned_data["closing_session_wanted"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Your engagement has ended. Your coach and your sponsor have been informed."),
            )
            return redirect(engagement)
    return render(
        request,
        "engagements/engagement_withdraw.html",
        {"engagement": engagement, "form": form},
    )


@require_http_methods(["GET", "POST"])
def engagement_cancel_view(request, pk):
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_cancel)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_cancel(
                engagement=engagement, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request, _("The engagement is cancelled. The parties have been informed.")
            )
            return redirect(engagement)
    return render(
        request, "engagements/engagement_cancel.html", {"engagement": engagement, "form": form}
    )


@require_http_methods(["GET", "POST"])
def engagement_terms(request, pk):
    """The coach changes the terms; out for signature, that makes a new version."""
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_manage_engagement)
    # The form validates a copy: the service applies the change, or nothing.
    form = EngagementTermsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(engagement)
    )
    if request.method == "POST" and form.is_valid():
        try:
            engagement_terms_update(
                engagement=engagement,
                coach=request.user,
                **{field: form.cleaned_data[field] for field in form.Meta.fields},
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Terms saved."))
            return redirect(engagement)
    return render(
        request,
        "engagements/engagement_terms.html",
        {
            "engagement": engagement,
            "form": form,
            "out_for_signature": engagement.conventions.filter(
                status=Convention.Status.SENT
            ).exists(),
        },
    )


def _listed(queryset):
    """
    A selector's rows; the database is not asked when there can be none
    (``none()``: the person may not see them), which Django would compile all
    the same.
    """
    return [] if queryset.query.is_empty() else list(queryset)


def _schedule(engagement, sessions, roles):
    """
    What each row of the schedule shows, worked out once here rather than by
    template tags and filters for every row (``label_schedule``); the summary
    and the note when the person may read them. The sponsor's list (the dates
    of the planned sessions, ``permissions.sessions_seen_by_sponsor``) reads
    only the fields ``sessions_for`` loaded.
    """
    if permissions.session_view(roles) == SessionView.FULL:
        summaries = permissions.can_view_shared_summaries(roles)
        notes = permissions.can_view_private_notes(roles)
        for session in label_schedule(engagement, sessions):
            session.status_label = capfirst(session.get_status_display())
            session.format_label = session.get_format_display()
            session.summary = getattr(session, "shared_summary", None) if summaries else None
            session.note = getattr(session, "private_note", None) if notes else None
        return
    for session in sessions:
        start = timezone.localtime(session.starts_at)
        session.iso = start.isoformat()
        session.kind_label = capfirst(session.get_kind_display())
        session.day = date(start, "j F Y")
        session.time = date(start, "H:i")


@require_GET
def engagement_detail(request, pk):
    """The engagement page: the five steps, the parties, and each section the person may see."""
    try:
        engagement = selectors.engagement_for(request.user, pk, with_closing_review=True)
    except Engagement.DoesNotExist:
        raise Http404 from None
    roles = permissions.roles_in(engagement, request.user)
    history = list(selectors.status_history(engagement))
    reports = _listed(selectors.reports_for(engagement, roles))
    closing_review = selectors.closing_review_for(engagement, roles)
    sessions = _listed(selectors.sessions_for(engagement, roles))
    session_view = permissions.session_view(roles)
    _schedule(engagement, sessions, roles)
    conventions = _listed(selectors.conventions_for(engagement, roles))
    objectives = _listed(selectors.objectives_for(engagement, roles))
    counts = selectors.session_counts(engagement, roles, sessions)
    can_sign = permissions.can_sign_convention(roles)
    sign_version = next(
        (
            c.version
            for c in conventions
            if c.status == Convention.Status.SENT
            and can_sign
            and not any(s.signer_id == request.user.pk for s in c.signatures.all())
        ),
        None,
    )
    permitted = workflow.permitted(engagement)
    rater = permissions.score_rater(roles)
    # What the mid-point rule needs (the portals annotate the same two figures).
    engagement.sessions_used = counts["used"]
    engagement.development_started = counts["development_started"]
    engagement.reports_started = sum(r.status != SponsorReport.Status.CLOSED for r in reports)
    if closing_review:
        privacy.confidential_views_log(
            user=request.user,
            engagement=engagement,
            records=[closing_review],
            ip_address=client_ip(request),
        )
    return render(
        request,
        "engagements/engagement_detail.html",
        {
            "engagement": engagement,
            "roles": roles,
            "history": history,
            "steps": workflow.steps(engagement, history),
            "actions": {t.name for t in workflow.allowed_transitions(engagement, request.user)},
            "permitted": permitted,
            "objectives": objectives,
            "can_view_objectives": permissions.can_view_objectives(roles),
            "charts": charts.objective_charts(objectives, reports)
            if permissions.can_view_scores(roles) and objectives
            else [],
            "is_sponsor": permissions.can_give_observed_scores(roles),
            "baseline_to_give": rater
            and "score_baseline" in permitted
            and objectives
            and all(o.approved_by_coachee_at for o in objectives)
            and any(
                not o.has_score(milestone=ObjectiveScore.Milestone.BASELINE, rater=rater)
                for o in objectives
            ),
            "session_view": session_view,
            "sessions": sessions,
            "counts": counts,
            "reports": reports,
            "can_view_reports": bool(permissions.report_statuses_visible(roles)),
            "can_start_report": permissions.can_write_reports(roles)
            and "start_report" in permitted
            and not any(r.status in SponsorReport.Status.open() for r in reports),
            "report_due": permissions.can_write_reports(roles) and workflow.report_due(engagement),
            "conventions": conventions,
            "can_sign": can_sign,
            "sign_version": sign_version,
            "can_manage": permissions.can_manage_engagement(roles),
            "invitations": selectors.invitation_statuses(engagement, roles),
            "can_edit_objectives": permissions.can_edit_objectives(roles),
            "closing_review": closing_review,
            "can_view_closing_review": permissions.can_view_closing_review(roles),
            # Only the coach learns that a coachee who withdrew wishes a closing session.
            "farewell_bookable": permissions.can_manage_sessions(roles)
            and CoachingSession.Kind.FAREWELL in workflow.bookable_kinds(engagement),
            "can_request_closing": permissions.can_request_closing(roles)
            and "request_closing" in permitted
            and not engagement.closing_requested_at,
            "final_scores_to_give": rater
            and "score_closing" in permitted
            and any(
                not o.has_score(milestone=ObjectiveScore.Milestone.CLOSING, rater=rater)
                for o in objectives
            ),
        },
    )
