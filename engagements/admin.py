"""
Admin for the practice owner. ``Engagement.status`` is read-only here: it only
changes through the workflow. Evidence and audit records are read-only, and
the bodies of session notes are never displayed (they belong to the coach and
the coachee only).
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from . import permissions
from .auth import client_ip
from .models import (
    AuditEvent,
    CalendarFeed,
    ClosingReview,
    Coach,
    CoachingSession,
    Convention,
    ConventionExport,
    Engagement,
    HRMembership,
    HRProposal,
    Kickoff,
    Notification,
    Objective,
    ObjectiveScore,
    Organization,
    PrivateNote,
    ReportProgress,
    SharedSummary,
    Signature,
    SignatureChallenge,
    SponsorReport,
    StatusChange,
    User,
)
from .services import exports
from .services.accounts import hr_proposal_confirm, hr_proposal_decline


class ReadOnlyAdminMixin:
    """Records that are evidence: visible, never edited or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "language",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "language"]}),
        (
            _("Permissions"),
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "password1",
                    "password2",
                ],
            },
        )
    ]


class HRMembershipInline(admin.TabularInline):
    model = HRMembership
    extra = 0
    autocomplete_fields = ["user"]


class CoachListFilter(admin.RelatedFieldListFilter):
    """The coaches with their names in one query (the default asks for each coach's user)."""

    def field_choices(self, field, request, model_admin):
        return [
            (coach.pk, str(coach))
            for coach in Coach.objects.select_related("user").order_by(
                "user__last_name", "user__first_name"
            )
        ]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "registration_number", "created_at"]
    search_fields = ["name", "registration_number"]
    inlines = [HRMembershipInline]
    actions = ["export_signed_conventions"]

    @admin.action(description=_("Export the signed conventions of the selected organizations"))
    def export_signed_conventions(self, request, queryset):
        """The practice owner's export across organizations, built in the background."""
        if not permissions.can_export_all_organizations(request.user):
            raise PermissionDenied
        filters = {"organizations": sorted(queryset.values_list("pk", flat=True))}
        if not exports.export_count(user=request.user, filters=filters, all_organizations=True):
            self.message_user(
                request, _("No signed convention in these organizations."), messages.WARNING
            )
            return None
        export = exports.export_start(
            user=request.user,
            filters=filters,
            all_organizations=True,
            ip_address=client_ip(request),
        )
        return redirect("convention_export", export.pk)


@admin.register(HRMembership)
class HRMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["user__email", "user__last_name", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


def _decide_proposals(modeladmin, request, queryset, service):
    for proposal in queryset.select_related("organization"):
        try:
            service(proposal, request.user)
        except ValidationError as error:
            modeladmin.message_user(
                request, f"{proposal}: {' '.join(error.messages)}", messages.ERROR
            )


@admin.register(HRProposal)
class HRProposalAdmin(admin.ModelAdmin):
    """The practice owner confirms or declines the coaches' HR proposals (through the services)."""

    list_display = ["organization", "first_name", "last_name", "email", "proposed_by", "status"]
    list_filter = ["status", "organization"]
    search_fields = ["email", "last_name", "organization__name"]
    list_select_related = ["organization", "proposed_by"]
    readonly_fields = [
        "organization",
        "email",
        "first_name",
        "last_name",
        "proposed_by",
        "status",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    actions = ["confirm", "decline"]

    def has_add_permission(self, request):
        return False  # a proposal comes from a coach, through the site

    @admin.action(description=_("Confirm the selected proposals"))
    def confirm(self, request, queryset):
        _decide_proposals(
            self,
            request,
            queryset,
            lambda proposal, user: hr_proposal_confirm(proposal=proposal, confirmed_by=user),
        )

    @admin.action(description=_("Decline the selected proposals"))
    def decline(self, request, queryset):
        _decide_proposals(
            self,
            request,
            queryset,
            lambda proposal, user: hr_proposal_decline(proposal=proposal, declined_by=user),
        )


@admin.register(Coach)
class CoachAdmin(admin.ModelAdmin):
    list_display = ["user", "credentials", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


class ObjectiveInline(admin.StackedInline):
    model = Objective
    extra = 0
    fields = ["position", "title", "success_indicators", "approved_by_coachee_at"]
    readonly_fields = ["approved_by_coachee_at"]


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusChange
    extra = 0
    fields = ["created_at", "from_status", "to_status", "actor", "actor_role", "reason"]
    readonly_fields = fields


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "coachee",
        "sponsor",
        "coach",
        "organization",
        "status",
        "start_date",
        "end_date",
    ]
    list_filter = ["status", "format", "language", "organization", ("coach", CoachListFilter)]
    search_fields = [
        "title",
        "coachee__email",
        "coachee__last_name",
        "sponsor__email",
        "sponsor__last_name",
        "organization__name",
    ]
    date_hierarchy = "start_date"
    autocomplete_fields = ["organization", "coach", "coachee", "sponsor"]
    list_select_related = ["organization", "coach__user", "coachee", "sponsor"]
    readonly_fields = [
        "status",
        "status_changed_at",
        "ended_at",
        "created_at",
        "updated_at",
    ]
    inlines = [ObjectiveInline, StatusChangeInline]


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "engagement",
        "from_status",
        "to_status",
        "actor",
        "actor_role",
        "created_at",
    ]
    list_filter = ["to_status", "from_status"]
    list_select_related = ["engagement__coachee", "actor"]
    date_hierarchy = "created_at"


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "engagement", "position", "approved_by_coachee_at"]
    search_fields = ["title", "engagement__title"]
    list_select_related = ["engagement__coachee"]
    raw_id_fields = ["engagement", "proposed_by"]


@admin.register(ObjectiveScore)
class ObjectiveScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A score keeps who gave it and when; it is never edited (DOMAIN.md)."""

    list_display = [
        "objective",
        "milestone",
        "rater",
        "score",
        "scored_by",
        "scored_at",
    ]
    list_filter = ["milestone", "rater", "score"]
    list_select_related = ["objective", "scored_by"]
    raw_id_fields = ["objective", "report", "scored_by"]


class SignatureInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Signature
    extra = 0
    fields = [
        "role",
        "signer",
        "signed_at",
        "ip_address",
        "auth_method",
        "document_sha256",
    ]
    readonly_fields = fields


@admin.register(Convention)
class ConventionAdmin(admin.ModelAdmin):
    list_display = ["engagement", "version", "status", "sent_at", "signed_at"]
    list_filter = ["status"]
    list_select_related = ["engagement__coachee"]
    search_fields = ["engagement__title", "engagement__coachee__last_name"]
    inlines = [SignatureInline]

    def has_change_permission(self, request, obj=None):
        # A convention sent for signature is frozen evidence.
        if obj is not None and obj.status != Convention.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [
            "status",
            "document_sha256",
            "sent_at",
            "signed_at",
            "voided_at",
            "document",
            "signed_document",
        ]


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["convention", "role", "signer", "signed_at", "ip_address"]
    list_filter = ["role"]
    list_select_related = ["convention__engagement__coachee", "signer"]


@admin.register(CoachingSession)
class CoachingSessionAdmin(admin.ModelAdmin):
    list_display = [
        "engagement",
        "kind",
        "starts_at",
        "duration_minutes",
        "format",
        "status",
    ]
    list_filter = ["kind", "status", "format"]
    date_hierarchy = "starts_at"
    list_select_related = ["engagement__coachee"]
    raw_id_fields = ["engagement", "cancelled_by"]
    readonly_fields = ["uid", "sequence"]


@admin.register(PrivateNote)
class PrivateNoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Metadata only: the note itself is the coach's alone."""

    list_display = ["session", "updated_at"]
    fields = ["session", "updated_at"]
    list_select_related = ["session"]

    def has_delete_permission(self, request, obj=None):
        # Erasure requests are honoured by the owner; reading is not possible.
        return request.user.is_superuser


@admin.register(SharedSummary)
class SharedSummaryAdmin(PrivateNoteAdmin):
    """Metadata only: the summary is shared by the coach and the coachee only."""

    list_display = ["session", "updated_by", "updated_at"]
    fields = ["session", "updated_by", "updated_at"]
    list_select_related = ["session", "updated_by"]


class ReportProgressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReportProgress
    fields = ["objective", "text"]
    extra = 0


@admin.register(SponsorReport)
class SponsorReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Reports are written by the coach and approved by the coachee, in the app only."""

    list_display = ["engagement", "period_start", "period_end", "status", "released_at"]
    list_filter = ["status"]
    list_select_related = ["engagement__coachee"]
    inlines = [ReportProgressInline]


@admin.register(ReportProgress)
class ReportProgressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["report", "objective"]
    list_select_related = ["report", "objective"]


@admin.register(ClosingReview)
class ClosingReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the coach and co-validated by the coachee in the app only."""

    list_display = ["engagement", "status", "coachee_validated_at", "completed_at"]
    list_filter = ["status"]
    list_select_related = ["engagement__coachee"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor",
        "action",
        "record_type",
        "record_id",
        "engagement",
    ]
    list_filter = ["action", "record_type"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "engagement__coachee"]


@admin.register(ConventionExport)
class ConventionExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Exports are asked for from the HR portal or the organizations' action."""

    list_display = ["created_at", "requested_by", "status", "total", "finished_at", "expires_at"]
    list_filter = ["status"]
    exclude = ["file"]
    list_select_related = ["requested_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "key", "recipient", "subject", "sent_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "recipient__email"]
    list_select_related = ["recipient"]


@admin.register(Kickoff)
class KickoffAdmin(admin.ModelAdmin):
    list_display = ["engagement", "recorded_by", "recorded_at"]
    list_select_related = ["engagement__coachee", "recorded_by"]
    raw_id_fields = ["engagement", "recorded_by"]


@admin.register(SignatureChallenge)
class SignatureChallengeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Codes are kept only as keyed hashes; the admin shows when and to whom."""

    list_display = ["convention", "user", "sent_to", "created_at", "attempts", "verified_at"]
    fields = [
        "convention",
        "user",
        "sent_to",
        "created_at",
        "expires_at",
        "attempts",
        "verified_at",
    ]
    list_select_related = ["convention__engagement", "user"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Tokens are secrets: the owner can revoke a feed, never read its address."""

    list_display = ["user", "created_at"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False
