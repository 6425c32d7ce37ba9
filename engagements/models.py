"""
The records of a tripartite coaching engagement (see DOMAIN.md).

Model methods state facts about one object. Writes live in ``services/``,
reads scoped to a user in ``selectors.py``, and ``Engagement.status`` only
changes through ``workflow.py``.
"""

import functools
import hashlib
import json
import unicodedata
import uuid
from datetime import UTC, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

SCORE_MIN, SCORE_MAX = -2, 2
MAX_CANCELLATION_NOTICE_HOURS = 720  # thirty days


def _is_control(character):
    # Control, format, surrogate, private and unassigned characters, and the
    # Unicode line and paragraph separators.
    return unicodedata.category(character)[0] == "C" or unicodedata.category(character) in (
        "Zl",
        "Zp",
    )


def validate_single_line(value):
    """
    A name is one line of printable text: a line break or a control character
    could break a calendar feed, an e-mail header or a PDF.
    """
    if any(_is_control(character) for character in value or ""):
        raise ValidationError(
            _("Use letters, spaces and punctuation only: no line break or control character."),
            code="control_character",
        )


def single_line(text):
    """``text`` with control characters dropped and its spaces collapsed (for output)."""
    if not text:
        return ""
    if text.isprintable():  # no control, format or separator character but the space
        return " ".join(text.split())
    return " ".join("".join(c if not _is_control(c) else " " for c in text).split())


class ChoiceLabels:
    """
    ``get_<field>_display()`` from a table built once per field: Django's own
    rebuilds and hashes the field's whole list of choices on every call (a
    translation each), which long lists of engagements and sessions pay per row.
    """

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        label = _choice_labels(field).get(value, value) if isinstance(value, str) else value
        return force_str(label, strings_only=True)


@functools.cache
def _choice_labels(field):
    return dict(field.flatchoices)


class Role(models.TextChoices):
    """A part a person plays in one engagement (HR is held per organization)."""

    COACH = "coach", _("coach")
    COACHEE = "coachee", _("coachee")
    SPONSOR = "sponsor", _("sponsor")
    HR = "hr", _("HR")


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


class Format(models.TextChoices):
    VIDEO = "video", _("video")
    IN_PERSON = "in_person", _("in person")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        """Sign-in ignores the case of the e-mail address."""
        return self.get(email=(email or "").strip().lower())

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser.")
        return self._create_user(email, password, **extra_fields)


class User(ChoiceLabels, AbstractUser):
    """A person who signs in with their e-mail address."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(
        _("first name"), max_length=150, blank=True, validators=[validate_single_line]
    )
    last_name = models.CharField(
        _("last name"), max_length=150, blank=True, validators=[validate_single_line]
    )
    language = models.CharField(
        _("language"), max_length=5, choices=Language, default=Language.FRENCH
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = self.email.lower()
        super().save(*args, **kwargs)

    def get_full_name(self):
        """One line, whatever was stored (calendars, e-mails and PDFs show it)."""
        return single_line(f"{self.first_name} {self.last_name}")


class Organization(ChoiceLabels, models.Model):
    """A client company whose managers are coached."""

    name = models.CharField(
        _("name"), max_length=200, unique=True, validators=[validate_single_line]
    )
    address = models.TextField(_("address"), blank=True)
    registration_number = models.CharField(
        _("registration number (SIRET)"), max_length=40, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def has_hr(self, user):
        """Whether ``user`` holds HR access to this organization."""
        return self.hr_memberships.filter(user=user).exists()

    def has_party(self, user):
        """Whether ``user`` is the coach, coachee or sponsor of one of its engagements."""
        return self.engagements.filter(
            Q(coach__user=user) | Q(coachee=user) | Q(sponsor=user)
        ).exists()


# HR reads every engagement of its organization: nobody is both HR of an
# organization and a party (coach, coachee, sponsor) of one of its
# engagements, whichever of the two roles comes first. Roles in other
# organizations are free (DOMAIN.md, "Who uses it").
HR_AND_PARTY_REFUSED = _(
    "A person cannot be both HR of an organization and a party to one of its engagements."
)


class HRMembership(ChoiceLabels, models.Model):
    """A person who administers engagements for a whole organization."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="hr_memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="hr_memberships",
        verbose_name=_("organization"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("HR membership")
        verbose_name_plural = _("HR memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_hr_membership")
        ]

    def __str__(self):
        return f"{self.user} — {self.organization}"

    def clean(self):
        # The admin too: the rule Engagement.clean checks the other way round.
        if self.user_id and self.organization_id and self.organization.has_party(self.user):
            raise ValidationError(HR_AND_PARTY_REFUSED)


class HRProposal(ChoiceLabels, models.Model):
    """
    A coach's proposal to give someone HR access to an organization where
    the coach holds an engagement. It grants nothing by itself: the practice
    owner or an existing HR of the organization confirms or declines it
    (DOMAIN.md, "Who uses it").
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for confirmation")
        CONFIRMED = "confirmed", _("confirmed")
        DECLINED = "declined", _("declined")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="hr_proposals",
        verbose_name=_("organization"),
    )
    email = models.EmailField(_("e-mail address"))
    first_name = models.CharField(
        _("first name"), max_length=150, validators=[validate_single_line]
    )
    last_name = models.CharField(_("last name"), max_length=150, validators=[validate_single_line])
    proposed_by = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="hr_proposals_made",
        verbose_name=_("proposed by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING, editable=False
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        editable=False,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("HR proposal")
        verbose_name_plural = _("HR proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(status="pending"),
                name="one_pending_hr_proposal_per_person",
                violation_error_message=_("This person is already proposed for this organization."),
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} <{self.email}> — {self.organization}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


class Coach(ChoiceLabels, models.Model):
    """A practitioner of the coaching practice."""

    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        related_name="coach_profile",
        verbose_name=_("user"),
    )
    credentials = models.CharField(
        _("credentials"),
        max_length=200,
        blank=True,
        help_text=_("Certifications shown on conventions, e.g. 'ICF PCC'."),
    )
    bio = models.TextField(_("biography"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coach")
        verbose_name_plural = _("coaches")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return str(self.user)


class EngagementStatus(models.TextChoices):
    """The states of DOMAIN.md; only ``workflow.py`` moves an engagement between them."""

    DRAFT = "draft", _("draft")
    KICKOFF = "kickoff", _("kickoff")
    CONTRACTING = "contracting", _("awaiting signatures")
    ACTIVE = "active", _("active")
    CLOSING = "closing", _("closing review")
    COMPLETED = "completed", _("completed")
    WITHDRAWN = "withdrawn", _("withdrawn")
    CANCELLED = "cancelled", _("cancelled")

    @classmethod
    def terminal(cls):
        return [cls.COMPLETED, cls.WITHDRAWN, cls.CANCELLED]


class EngagementQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=EngagementStatus.terminal())

    def ended(self):
        return self.filter(status__in=EngagementStatus.terminal())


class Engagement(ChoiceLabels, models.Model):
    """
    One coaching engagement binding a coachee, their sponsor and a coach.

    The coachee and the sponsor are roles held in this engagement only: the
    same person may sponsor one engagement and be coached in another.
    """

    Status = EngagementStatus

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="engagements",
        verbose_name=_("organization"),
    )
    coach = models.ForeignKey(
        Coach,
        on_delete=models.PROTECT,
        related_name="engagements",
        verbose_name=_("coach"),
    )
    coachee = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="engagements_as_coachee",
        verbose_name=_("coachee"),
    )
    sponsor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="engagements_as_sponsor",
        verbose_name=_("sponsor"),
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        help_text=_("The career turn being accompanied, e.g. 'First director role'."),
    )
    coachee_job_title = models.CharField(_("coachee's job title"), max_length=200)
    sponsor_job_title = models.CharField(_("sponsor's job title"), max_length=200)
    # Only workflow.py writes these three fields.
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status,
        default=Status.DRAFT,
        editable=False,
    )
    status_changed_at = models.DateTimeField(
        _("status changed at"), default=timezone.now, editable=False
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    language = models.CharField(
        _("language of the convention"),
        max_length=5,
        choices=Language,
        default=Language.FRENCH,
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    sessions_contracted = models.PositiveSmallIntegerField(
        _("contracted sessions"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(40)],
    )
    session_minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"),
        default=120,
        validators=[MinValueValidator(30), MaxValueValidator(480)],
    )
    format = models.CharField(_("format"), max_length=20, choices=Format, default=Format.VIDEO)
    fee_amount = models.DecimalField(
        _("fees excluding tax (EUR)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        _("cancellation notice (hours)"),
        default=48,
        validators=[MaxValueValidator(MAX_CANCELLATION_NOTICE_HOURS)],
        help_text=_("A session cancelled later than this counts as held."),
    )
    coachee_availability = models.TextField(
        _("the coachee's availability"),
        blank=True,
        help_text=_("Days and times that suit the coachee, as they wrote them."),
    )
    availability_requested_at = models.DateTimeField(
        _("availability asked at"), null=True, blank=True
    )
    closing_requested_at = models.DateTimeField(
        _("closing review asked for by the coachee at"), null=True, blank=True
    )
    # Said at withdrawal; only the coach learns it (permissions.py).
    closing_session_wanted = models.BooleanField(
        _("the coachee would welcome a closing session"), default=False, editable=False
    )
    # Set by the retention run (services/privacy.py) once the engagement's
    # personal data has been anonymized; the signed convention stays on file.
    anonymized_at = models.DateTimeField(
        _("personal data anonymized at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["status", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EngagementStatus.values),
                name="engagement_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")),
                name="engagement_ends_after_start",
                violation_error_message=_("The end date must be after the start date."),
            ),
            models.CheckConstraint(
                condition=~Q(coachee=F("sponsor")),
                name="engagement_coachee_is_not_sponsor",
                violation_error_message=_(
                    "The coachee and the sponsor must be two different people."
                ),
            ),
            models.CheckConstraint(
                condition=Q(sessions_contracted__gte=1, sessions_contracted__lte=40),
                name="engagement_sessions_contracted_range",
            ),
            models.CheckConstraint(
                condition=Q(session_minutes__gte=30, session_minutes__lte=480),
                name="engagement_session_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(fee_amount__gte=0), name="engagement_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(
                    cancellation_notice_hours__gte=0,
                    cancellation_notice_hours__lte=MAX_CANCELLATION_NOTICE_HOURS,
                ),
                name="engagement_cancellation_notice_range",
            ),
            models.CheckConstraint(
                condition=Q(format__in=Format.values),
                name="engagement_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(status__in=EngagementStatus.terminal()),
                name="engagement_ended_only_when_terminal",
            ),
        ]

    def __str__(self):
        return f"{self.coachee} — {self.title}"

    def get_absolute_url(self):
        return _engagement_url(get_script_prefix(), self.pk)

    def clean(self):
        # The coachee and the sponsor differ: a database constraint says so.
        coach_user = self.coach.user_id if self.coach_id else None
        if coach_user and coach_user in (self.coachee_id, self.sponsor_id):
            raise ValidationError(_("The coach cannot also be the coachee or the sponsor."))
        parties = [pk for pk in (coach_user, self.coachee_id, self.sponsor_id) if pk]
        if (
            self.organization_id
            and HRMembership.objects.filter(
                organization_id=self.organization_id, user_id__in=parties
            ).exists()
        ):
            raise ValidationError(HR_AND_PARTY_REFUSED)

    @property
    def is_terminal(self):
        return self.status in self.Status.terminal()

    @property
    def contracted_hours(self):
        return Decimal(self.sessions_contracted * self.session_minutes) / 60

    def roles_of(self, user):
        """The roles ``user`` holds in this engagement (HR needs memberships)."""
        if not user or not user.is_authenticated:
            return set()
        roles = set()
        if self.coach.user_id == user.pk:
            roles.add(Role.COACH)
        if self.coachee_id == user.pk:
            roles.add(Role.COACHEE)
        if self.sponsor_id == user.pk:
            roles.add(Role.SPONSOR)
        return roles

    def party_for(self, role):
        """The user holding ``role`` in this engagement."""
        return {
            Role.COACH: self.coach.user,
            Role.COACHEE: self.coachee,
            Role.SPONSOR: self.sponsor,
        }[role]


@functools.lru_cache(maxsize=4096)
def _engagement_url(script_prefix, pk):
    """An engagement page's URL, reversed once (lists link to each engagement several times)."""
    return reverse("engagement_detail", args=[pk])


class StatusChange(ChoiceLabels, models.Model):
    """Audit record of one engagement transition: who, when, from, to."""

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("engagement"),
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Engagement.Status)
    to_status = models.CharField(_("to"), max_length=20, choices=Engagement.Status)
    # Null when the platform itself made the move (e.g. after the last signature).
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_role = models.CharField(_("as"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")),
                name="status_change_changes_status",
            ),
        ]

    def __str__(self):
        return f"{self.engagement_id}: {self.from_status} → {self.to_status}"


class Objective(ChoiceLabels, models.Model):
    """An objective agreed at kickoff, with how success will be recognised."""

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="objectives",
        verbose_name=_("engagement"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    title = models.CharField(_("objective"), max_length=300)
    success_indicators = models.TextField(_("success indicators"))
    proposed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approved_by_coachee_at = models.DateTimeField(
        _("approved by the coachee at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        ordering = ["engagement", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "position"], name="unique_objective_position"
            )
        ]

    def __str__(self):
        return self.title

    def has_score(self, *, milestone, rater):
        """Whether ``rater`` scored this objective at ``milestone`` (uses prefetched ``scores``)."""
        return any(s.milestone == milestone and s.rater == rater for s in self.scores.all())


class ObjectiveScore(ChoiceLabels, models.Model):
    """
    A goal-attainment score (−2..+2, 0 = expected outcome) given to one
    objective by the coachee (self) or the sponsor (observed), at a milestone.
    """

    class Milestone(models.TextChoices):
        BASELINE = "baseline", _("kickoff (baseline)")
        REPORT = "report", _("sponsor report")
        CLOSING = "closing", _("closing review")

    class Rater(models.TextChoices):
        COACHEE = "coachee", _("coachee (self-assessment)")
        SPONSOR = "sponsor", _("sponsor (observed)")

    objective = models.ForeignKey(
        Objective,
        on_delete=models.CASCADE,
        related_name="scores",
        verbose_name=_("objective"),
    )
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone)
    report = models.ForeignKey(
        "SponsorReport",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scores",
        verbose_name=_("report"),
    )
    rater = models.CharField(_("rated by"), max_length=20, choices=Rater)
    scored_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scored by"),
    )
    score = models.SmallIntegerField(
        _("score"),
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )
    scored_at = models.DateTimeField(_("scored at"), default=timezone.now)

    class Meta:
        verbose_name = _("objective score")
        verbose_name_plural = _("objective scores")
        ordering = ["objective", "scored_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
                name="objective_score_in_range",
            ),
            models.CheckConstraint(
                condition=Q(milestone="report", report__isnull=False)
                | (~Q(milestone="report") & Q(report__isnull=True)),
                name="objective_score_report_iff_report_milestone",
            ),
            models.UniqueConstraint(
                fields=["objective", "milestone", "rater"],
                condition=Q(report__isnull=True),
                name="unique_objective_score_per_milestone",
            ),
            models.UniqueConstraint(
                fields=["objective", "report", "rater"],
                condition=Q(report__isnull=False),
                name="unique_objective_score_per_report",
            ),
        ]

    def __str__(self):
        return f"{self.objective}: {self.score:+d} ({self.get_rater_display()})"


class Kickoff(ChoiceLabels, models.Model):
    """
    The recorded outcome of the tripartite kickoff: what each party expects
    and what will be reported to the sponsor. The objectives are their own
    records (``Objective``).
    """

    engagement = models.OneToOneField(
        Engagement,
        on_delete=models.CASCADE,
        related_name="kickoff",
        verbose_name=_("engagement"),
    )
    coachee_expectations = models.TextField(_("the coachee's expectations"))
    sponsor_expectations = models.TextField(_("the sponsor's expectations"))
    coach_expectations = models.TextField(_("the coach's expectations"), blank=True)
    reporting_scope = models.TextField(
        _("what will be reported to the sponsor"),
        help_text=_("E.g. attendance, hours used, progress on each objective, a general comment."),
    )
    recorded_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("kickoff outcome")
        verbose_name_plural = _("kickoff outcomes")

    def __str__(self):
        return gettext("Kickoff of %(engagement)s") % {"engagement": self.engagement}


class Convention(ChoiceLabels, models.Model):
    """
    One version of the tripartite convention. Sending it for signature
    freezes ``terms`` and records the SHA-256 of the document; changing the
    terms afterwards makes a new version and voids this one.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENT = "sent", _("sent for signature")
        SIGNED = "signed", _("signed by all parties")
        VOIDED = "voided", _("voided")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        related_name="conventions",
        verbose_name=_("engagement"),
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    terms = models.JSONField(_("terms"), default=dict)
    document = models.FileField(_("document to sign"), upload_to="conventions/", blank=True)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    signed_document = models.FileField(
        _("signed and sealed document"), upload_to="conventions/signed/", blank=True
    )
    # The evidence of each signature as printed in the sealed document's
    # appendices, kept as data when the document is sealed (HR's export).
    evidence = models.JSONField(_("signature evidence"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("fully signed at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("convention")
        verbose_name_plural = _("conventions")
        ordering = ["engagement", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "version"], name="unique_convention_version"
            ),
            models.UniqueConstraint(
                fields=["engagement"],
                condition=~Q(status="voided"),
                name="one_current_convention_per_engagement",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "sent", "signed", "voided"]),
                name="convention_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(sent_at__isnull=False) & ~Q(document_sha256="")),
                name="convention_sent_is_frozen",
            ),
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(signed_at__isnull=False),
                name="convention_signed_has_date",
            ),
        ]

    def __str__(self):
        return gettext("Convention v%(version)s — %(engagement)s") % {
            "version": self.version,
            "engagement": self.engagement,
        }


class Signature(ChoiceLabels, models.Model):
    """A party's simple electronic signature of one convention version, with its evidence."""

    convention = models.ForeignKey(
        Convention,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("convention"),
    )
    signer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("signer"),
    )
    role = models.CharField(
        _("role"),
        max_length=20,
        choices=[(r.value, r.label) for r in (Role.COACH, Role.COACHEE, Role.SPONSOR)],
    )
    signed_at = models.DateTimeField(_("signed at (UTC)"), default=timezone.now)
    typed_name = models.CharField(_("typed name"), max_length=200)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"))
    auth_method = models.TextField(_("authentication method"))
    authenticated_at = models.DateTimeField(_("authenticated at"))
    # The signer opened this exact version before asking for the code.
    document_opened_at = models.DateTimeField(_("document opened at (UTC)"), null=True, blank=True)
    consent_text = models.TextField(_("consent text"))
    document_sha256 = models.CharField(_("SHA-256 of the signed document"), max_length=64)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["convention", "signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["convention", "role"], name="unique_signature_per_role"
            ),
            models.UniqueConstraint(
                fields=["convention", "signer"], name="unique_signature_per_signer"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[Role.COACH, Role.COACHEE, Role.SPONSOR]),
                name="signature_role_is_a_party",
            ),
            models.CheckConstraint(
                condition=~Q(document_sha256=""), name="signature_has_document_hash"
            ),
        ]

    def __str__(self):
        return f"{self.signer} ({self.get_role_display()})"


class SignatureChallenge(ChoiceLabels, models.Model):
    """
    A one-time code sent by e-mail to a party about to sign a convention
    version. Only a keyed hash of the code is kept.
    """

    MAX_ATTEMPTS = 5

    convention = models.ForeignKey(
        Convention,
        on_delete=models.CASCADE,
        related_name="challenges",
        verbose_name=_("convention"),
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    code_hash = models.CharField(_("hash of the code"), max_length=64)
    sent_to = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature code")
        verbose_name_plural = _("signature codes")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} — v{self.convention.version}"


CANCELLATION_MESSAGE_MAX_LENGTH = 500


class CoachingSessionQuerySet(models.QuerySet):
    def development(self):
        return self.filter(kind=CoachingSession.Kind.DEVELOPMENT)

    def used(self):
        """Sessions that count against the contracted quota (see ``counts_as_used``)."""
        return self.filter(CoachingSession.USED)

    def upcoming(self, now=None):
        return self.filter(
            status=CoachingSession.Status.PLANNED, starts_at__gte=now or timezone.now()
        )


class CoachingSession(ChoiceLabels, models.Model):
    """A meeting of the engagement: tripartite (kickoff, mid-point, closing) or development."""

    class Kind(models.TextChoices):
        KICKOFF = "kickoff", _("tripartite kickoff")
        DEVELOPMENT = "development", _("development session")
        MIDPOINT = "midpoint", _("tripartite mid-point review")
        CLOSING = "closing", _("tripartite closing review")
        # After a withdrawal, if the coachee wished it: coach and coachee only.
        FAREWELL = "farewell", _("closing session with the coach")

        @classmethod
        def tripartite(cls):
            return [cls.KICKOFF, cls.MIDPOINT, cls.CLOSING]

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        # A "séance" is feminine in French: its own word, not the engagement's.
        CANCELLED = "cancelled", pgettext_lazy("session", "cancelled")
        MISSED = "missed", _("missed")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="sessions",
        verbose_name=_("engagement"),
    )
    # Who holds the meeting: the engagement's coach when it was placed. Kept
    # on the session so that the database can refuse two planned meetings of
    # one coach at the same time (OVERLAP_CONSTRAINT, on PostgreSQL).
    coach = models.ForeignKey(
        Coach,
        on_delete=models.PROTECT,
        related_name="sessions",
        verbose_name=_("coach"),
        editable=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.DEVELOPMENT)
    starts_at = models.DateTimeField(_("start"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=120,
        validators=[MinValueValidator(15), MaxValueValidator(480)],
    )
    format = models.CharField(_("format"), max_length=20, choices=Format, default=Format.VIDEO)
    location = models.CharField(_("place"), max_length=300, blank=True)
    video_url = models.URLField(_("video link"), max_length=2000, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PLANNED)
    # Stable calendar identity; ``sequence`` grows with each change sent.
    uid = models.UUIDField(_("calendar UID"), default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_late = models.BooleanField(_("cancelled late"), default=False)
    # The canceller's optional word to the other parties of the meeting, shown
    # in their cancellation e-mail (the sponsor gets it only for a meeting he
    # attends). Bounded: a few lines, not a correspondence.
    cancellation_message = models.TextField(
        _("message with the cancellation"),
        max_length=CANCELLATION_MESSAGE_MAX_LENGTH,
        blank=True,
    )
    # When the attendance was first recorded: the coach may correct it for
    # ATTENDANCE_CORRECTION_DAYS after that (each correction is in the audit log).
    attendance_recorded_at = models.DateTimeField(
        _("attendance recorded at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CoachingSessionQuerySet.as_manager()

    # Held, missed (the coachee did not come) or cancelled too late per the
    # convention's notice: these sessions are used up.
    USED = Q(status__in=["held", "missed"]) | Q(status="cancelled", cancelled_late=True)

    # The PostgreSQL exclusion constraint of migration 0009: no two planned
    # meetings of one coach overlap, whatever their engagements.
    OVERLAP_CONSTRAINT = "coach_planned_sessions_do_not_overlap"

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["engagement", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15, duration_minutes__lte=480),
                name="session_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["kickoff", "development", "midpoint", "closing", "farewell"]),
                name="session_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "held", "cancelled", "missed"]),
                name="session_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="session_cancelled_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(format=Format.IN_PERSON, location=""),
                name="session_in_person_has_place",
                violation_error_message=_("Give the place of an in-person meeting."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.starts_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.coach_id is None:
            self.coach_id = self.engagement.coach_id
        super().save(*args, **kwargs)

    def clean(self):
        self.location = self.location.strip()
        self.video_url = self.video_url.strip()
        if self.format == Format.IN_PERSON and not self.location:
            raise ValidationError({"location": _("Give the place of an in-person meeting.")})

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_tripartite(self):
        return self.kind in self.Kind.tripartite()

    @property
    def counts_as_used(self):
        return self.status in (self.Status.HELD, self.Status.MISSED) or (
            self.status == self.Status.CANCELLED and self.cancelled_late
        )

    @property
    def cancellation_deadline(self):
        """After this moment a cancellation is late (the convention's notice period)."""
        return self.starts_at - timedelta(hours=self.engagement.cancellation_notice_hours)

    def cancellation_is_late(self, now):
        return now > self.cancellation_deadline

    @property
    def attendance_correctable_until(self):
        """
        Until when the coach may correct the attendance recorded; ``None``
        while none is. Sessions recorded before the moment was kept count
        from their end.
        """
        if self.status not in (self.Status.HELD, self.Status.MISSED):
            return None
        recorded = self.attendance_recorded_at or self.ends_at
        return recorded + timedelta(days=settings.ATTENDANCE_CORRECTION_DAYS)


class PrivateNote(ChoiceLabels, models.Model):
    """The coach's private notes on a session: seen by the coach only, ever."""

    session = models.OneToOneField(
        CoachingSession,
        on_delete=models.CASCADE,
        related_name="private_note",
        verbose_name=_("session"),
    )
    body = models.TextField(_("private notes"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("coach's private note")
        verbose_name_plural = _("coach's private notes")

    def __str__(self):
        return str(gettext("Private note on %(session)s") % {"session": self.session})


class SharedSummary(ChoiceLabels, models.Model):
    """Summary and action plan of a session, shared by the coach and the coachee only."""

    session = models.OneToOneField(
        CoachingSession,
        on_delete=models.CASCADE,
        related_name="shared_summary",
        verbose_name=_("session"),
    )
    summary = models.TextField(_("summary"), blank=True)
    action_plan = models.TextField(_("action plan"), blank=True)
    updated_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shared session summary")
        verbose_name_plural = _("shared session summaries")

    def __str__(self):
        return str(gettext("Summary of %(session)s") % {"session": self.session})


class SponsorReport(ChoiceLabels, models.Model):
    """
    A progress report to the sponsor: attendance and hours from the sessions
    of its period, progress on each objective in words, a general comment —
    never any session content. It reaches the sponsor only once the coachee
    has approved it, and is never edited afterwards (a correction is a new
    report):

        draft (coach) -> awaiting approval (coachee) -> released (sponsor)
                             `-> returned with the coachee's comment -> draft again

    A withdrawal closes a report still open; it is never released.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting the coachee's approval")
        CHANGES_REQUESTED = "changes_requested", _("returned to the coach by the coachee")
        RELEASED = "released", _("released to the sponsor")
        CLOSED = "closed", _("closed without release")

        @classmethod
        def open(cls):
            """Being written or approved: at most one per engagement."""
            return [cls.DRAFT, cls.AWAITING_APPROVAL, cls.CHANGES_REQUESTED]

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("engagement"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    author = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    # Filled in from the sessions of the period, each time the report is saved.
    sessions_held = models.PositiveSmallIntegerField(_("sessions held"), default=0)
    sessions_missed = models.PositiveSmallIntegerField(_("sessions missed"), default=0)
    late_cancellations = models.PositiveSmallIntegerField(_("late cancellations"), default=0)
    hours_used = models.DecimalField(
        _("hours used"), max_digits=6, decimal_places=2, default=Decimal("0")
    )
    general_comment = models.TextField(_("general comment"), blank=True)
    coachee_comment = models.TextField(_("coachee's comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved by the coachee at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sponsor report")
        verbose_name_plural = _("sponsor reports")
        ordering = ["engagement", "period_end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="report_period_ordered",
                violation_error_message=_("The period must end after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(status="released")
                | Q(approved_at__isnull=False, released_at__isnull=False),
                name="report_released_only_when_approved",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "awaiting_approval",
                        "changes_requested",
                        "released",
                        "closed",
                    ]
                ),
                name="report_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "changes_requested", "closed"])
                | Q(submitted_at__isnull=False),
                name="report_submitted_has_date",
            ),
            # One report being written or approved at a time per engagement.
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(status__in=["draft", "awaiting_approval", "changes_requested"]),
                name="one_open_report_per_engagement",
                violation_error_message=_(
                    "A report is already being written: finish it before starting another."
                ),
            ),
        ]

    def __str__(self):
        return str(
            gettext("Report %(start)s – %(end)s")
            % {"start": self.period_start, "end": self.period_end}
        )

    def get_absolute_url(self):
        return reverse("report_detail", args=[self.engagement_id, self.pk])

    @property
    def is_released(self):
        return self.status == self.Status.RELEASED

    @property
    def is_editable(self):
        """The coach writes while it is a draft or has come back from the coachee."""
        return self.status in (self.Status.DRAFT, self.Status.CHANGES_REQUESTED)


class ReportProgress(ChoiceLabels, models.Model):
    """What a report says of one objective, in words."""

    report = models.ForeignKey(
        SponsorReport,
        on_delete=models.CASCADE,
        related_name="objective_progress",
        verbose_name=_("report"),
    )
    objective = models.ForeignKey(
        Objective,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("objective"),
    )
    text = models.TextField(_("progress"), blank=True)

    class Meta:
        verbose_name = _("progress on an objective")
        verbose_name_plural = _("progress on the objectives")
        ordering = ["report", "objective__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "objective"], name="unique_progress_per_report_objective"
            )
        ]

    def __str__(self):
        return f"{self.report} — {self.objective}"


class ClosingReview(ChoiceLabels, models.Model):
    """
    The closing review's written synthesis (DOMAIN.md step 5). The coach
    writes it; the coachee co-validates it (approves, or returns it with a
    comment) and chooses, part by part, what the sponsor receives. The final
    synthesis PDF then exists in two sealed versions: the coachee's (whole)
    and the sponsor's (the shared parts only). Generating them completes the
    engagement.

        draft (coach) -> awaiting the coachee -> validated -> completed (PDFs)
                              `-> returned with her comment -> draft again
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_COACHEE = "awaiting_coachee", _("awaiting the coachee's validation")
        CHANGES_REQUESTED = "changes_requested", _("returned to the coach by the coachee")
        VALIDATED = "validated", _("validated by the coachee")
        COMPLETED = "completed", _("final synthesis issued")

    # The parts of the synthesis, in the order of the document; the coachee
    # decides for each whether the sponsor receives it.
    PARTS = ("learnings", "metacognitive_skills", "objectives_assessment", "recommendations")

    engagement = models.OneToOneField(
        Engagement,
        on_delete=models.CASCADE,
        related_name="closing_review",
        verbose_name=_("engagement"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    learnings = models.TextField(_("what was learned"), blank=True)
    metacognitive_skills = models.TextField(
        _("metacognitive skills developed"),
        blank=True,
        help_text=_("How the coachee now steps back, reads a situation, decides."),
    )
    objectives_assessment = models.TextField(_("how far each objective was reached"), blank=True)
    recommendations = models.TextField(_("recommendations and next steps"), blank=True)
    share_learnings = models.BooleanField(_("the sponsor receives what was learned"), default=False)
    share_metacognitive_skills = models.BooleanField(
        _("the sponsor receives the metacognitive skills"), default=False
    )
    share_objectives_assessment = models.BooleanField(
        _("the sponsor receives how far each objective was reached"), default=False
    )
    share_recommendations = models.BooleanField(
        _("the sponsor receives the recommendations"), default=False
    )
    coachee_comment = models.TextField(_("coachee's comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    coachee_validated_at = models.DateTimeField(
        _("validated by the coachee at"), null=True, blank=True
    )
    generation_requested_at = models.DateTimeField(
        _("final synthesis asked for at"), null=True, blank=True
    )
    synthesis_pdf = models.FileField(
        _("final synthesis (coachee's version)"), upload_to="syntheses/", blank=True
    )
    synthesis_sha256 = models.CharField(
        _("SHA-256 of the coachee's version"), max_length=64, blank=True
    )
    sponsor_pdf = models.FileField(
        _("final synthesis (sponsor's version)"), upload_to="syntheses/", blank=True
    )
    sponsor_sha256 = models.CharField(
        _("SHA-256 of the sponsor's version"), max_length=64, blank=True
    )
    completed_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("closing review")
        verbose_name_plural = _("closing reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "awaiting_coachee",
                        "changes_requested",
                        "validated",
                        "completed",
                    ]
                ),
                name="closing_review_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["validated", "completed"])
                | Q(coachee_validated_at__isnull=False),
                name="closing_review_validated_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | (
                    Q(completed_at__isnull=False)
                    & ~Q(synthesis_pdf="")
                    & ~Q(sponsor_pdf="")
                    & ~Q(synthesis_sha256="")
                    & ~Q(sponsor_sha256="")
                ),
                name="closing_review_completed_has_documents",
            ),
        ]

    def __str__(self):
        return str(gettext("Closing review — %(engagement)s") % {"engagement": self.engagement})

    def get_absolute_url(self):
        return reverse("synthesis", args=[self.engagement_id])

    @property
    def is_editable(self):
        return self.status in (self.Status.DRAFT, self.Status.CHANGES_REQUESTED)

    @property
    def is_completed(self):
        return self.status == self.Status.COMPLETED

    def parts(self):
        """(name, label, text, shared with the sponsor) for each part, in order."""
        return [
            (
                name,
                self._meta.get_field(name).verbose_name,
                getattr(self, name),
                getattr(self, f"share_{name}"),
            )
            for name in self.PARTS
        ]

    def shared_parts(self):
        return [part for part in self.parts() if part[3]]


class CalendarFeed(ChoiceLabels, models.Model):
    """A person's private calendar address; the token can be revoked and renewed."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("user")
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self):
        return str(self.user)


class Notification(ChoiceLabels, models.Model):
    """
    One e-mail the platform sends, recorded so that it goes out once even if
    the task that sends it runs twice. ``key`` names the occasion, e.g.
    ``withdrawal:42:coach`` or ``reminder-48h:17:coachee``.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    recipient = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("engagement"),
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]

    def __str__(self):
        return self.key


class AuditEventQuerySet(models.QuerySet):
    """The audit log is append-only: rows are never updated or deleted."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly

    def delete(self):
        raise AuditLogIsAppendOnly


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEvent(ChoiceLabels, models.Model):
    """
    Who did or saw what, when: every view, download or export of a
    confidential record, every signature and transition, and every automatic
    purge (DOMAIN.md, retention and privacy).

    The log is append-only and hash-chained: each event carries the SHA-256 of
    its content and of the event before it, so that a changed or removed row
    is found by ``manage.py verify_audit``. Events are written through
    ``engagements.audit.record`` only, which serializes the writers.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        DOWNLOAD = "download", _("downloaded")
        EXPORT = "export", _("exported")
        PURGE = "purge", _("purged")
        SIGN = "sign", _("signed")
        TRANSITION = "transition", _("changed state")

    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("engagement"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    record_type = models.CharField(_("record type"), max_length=60)
    record_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    previous_hash = models.CharField(_("hash of the previous event"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.record_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AuditLogIsAppendOnly
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly

    def content_hash(self) -> str:
        """The SHA-256 of this event's content and of the previous event's hash."""
        content = {
            "action": self.action,
            "actor": self.actor_id,
            "at": self.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "detail": self.detail,
            "engagement": self.engagement_id,
            "ip": self.ip_address,
            "previous": self.previous_hash,
            "record_id": self.record_id,
            "record_type": self.record_type,
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class ConventionExport(ChoiceLabels, models.Model):
    """
    A ZIP of signed conventions built in the background (too many to stream
    in the request): HR's, with the filters of their page, or the practice
    owner's across organizations. The file is kept until ``expires_at``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("being built")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    requested_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="convention_exports",
        verbose_name=_("requested by"),
    )
    # Empty for HR: the organizations where the requester is HR at build time.
    all_organizations = models.BooleanField(_("all organizations"), default=False)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    total = models.PositiveIntegerField(_("conventions"), default=0)
    done = models.PositiveIntegerField(_("conventions written"), default=0)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/", blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export of signed conventions")
        verbose_name_plural = _("exports of signed conventions")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return gettext("Export %(pk)s of %(date)s") % {
            "pk": self.pk,
            "date": timezone.localtime(self.created_at).strftime("%Y-%m-%d %H:%M"),
        }

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def is_downloadable(self, now) -> bool:
        return self.status == self.Status.READY and bool(self.file) and now < self.expires_at
