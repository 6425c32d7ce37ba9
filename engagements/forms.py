"""Forms. ``Engagement.status`` is never a form field: it moves through workflow.py."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import (
    CANCELLATION_MESSAGE_MAX_LENGTH,
    ClosingReview,
    Engagement,
    Format,
    Language,
    Organization,
    validate_single_line,
)
from .services.engagements import TERM_FIELDS

# The years a person may type in any date of the app. Anything else is a
# typing slip (year 1, year 9999) that would only overflow date arithmetic
# further on: it is refused with the form's other errors.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def validate_plausible_year(value):
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Give a date between %(first)s and %(last)s."),
            code="implausible_year",
            params={"first": EARLIEST_YEAR, "last": LATEST_YEAR},
        )


class DateField(forms.DateField):
    default_validators = [validate_plausible_year]


class DateTimeField(forms.DateTimeField):
    default_validators = [validate_plausible_year]


class LineField(forms.CharField):
    """One line of printable text: names, titles (shown in calendars, e-mails, PDFs)."""

    default_validators = [validate_single_line]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class _NoTagHelperMixin:
    """
    Crispy renders fields only; templates own <form>, CSRF, buttons and the
    form's own errors (templates/bootstrap5/errors.html leaves them out).
    """

    errors_shown_by_page = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class EngagementOpenForm(_NoTagHelperMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Client organization"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("— a new organization —"),
    )
    new_organization_name = LineField(
        label=_("New organization"),
        max_length=200,
        required=False,
        help_text=_("Only if the organization is not in the list."),
    )
    title = LineField(
        label=_("Purpose of the engagement"),
        max_length=200,
        help_text=_("The career turn, e.g. 'First director role'."),
    )
    coachee_first_name = LineField(label=_("First name"), max_length=150)
    coachee_last_name = LineField(label=_("Last name"), max_length=150)
    coachee_email = forms.EmailField(label=_("E-mail"))
    coachee_job_title = LineField(label=_("Job title"), max_length=200)
    sponsor_first_name = LineField(label=_("First name"), max_length=150)
    sponsor_last_name = LineField(label=_("Last name"), max_length=150)
    sponsor_email = forms.EmailField(label=_("E-mail"))
    sponsor_job_title = LineField(label=_("Job title"), max_length=200)
    start_date = DateField(label=_("Start date"), widget=DateInput())
    end_date = DateField(
        label=_("End date"), widget=DateInput(), help_text=_("Usually twelve months later.")
    )
    sessions_contracted = forms.IntegerField(
        label=_("Number of sessions"), min_value=1, max_value=40, initial=12
    )
    session_minutes = forms.IntegerField(
        label=_("Session length (minutes)"), min_value=30, max_value=480, initial=120
    )
    format = forms.ChoiceField(label=_("Format"), choices=Format.choices, initial=Format.VIDEO)
    fee_amount = forms.DecimalField(
        label=_("Fees excluding tax (EUR)"), min_value=0, max_digits=10, decimal_places=2
    )
    language = forms.ChoiceField(
        label=_("Language of the engagement"),
        choices=Language.choices,
        initial=Language.FRENCH,
        help_text=_(
            "The convention's, and that of the invitations and e-mails of a coachee or "
            "sponsor new to Trio (each can change it later)."
        ),
    )
    # Shown only once a start date in the past was given (see ``clean``).
    start_in_past_confirmed = forms.BooleanField(
        label=_("Yes, this engagement started in the past"), required=False
    )

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Whether the form asks to confirm a start date in the past.
        self.asks_past_start = False
        if organizations is not None:
            # A coach chooses among his own client organizations, or names a new one.
            self.fields["organization"].queryset = organizations
        today = timezone.localdate()
        self.fields["start_date"].initial = today
        self.fields["end_date"].initial = today + timedelta(days=365)

    def clean(self):
        data = super().clean()
        if not data.get("organization") and not data.get("new_organization_name", "").strip():
            self.add_error(
                "organization", _("Choose the organization or give the name of a new one.")
            )
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end <= start:
            self.add_error("end_date", _("The end date must be after the start date."))
        # Often a slip (a year typed wrong): questioned, then accepted once confirmed.
        if start and start < timezone.localdate():
            self.asks_past_start = True
            if not data.get("start_in_past_confirmed"):
                self.add_error(
                    "start_in_past_confirmed",
                    _(
                        "The start date, %(date)s, is in the past. Tick the box if the "
                        "engagement really started then, or correct the date."
                    )
                    % {"date": date_format(start)},
                )
        # That the coachee, the sponsor and the coach are three people is the
        # engagement's own rule (Engagement.clean and its constraints).
        return data


class WithdrawForm(_NoTagHelperMixin, forms.Form):
    closing_session_wanted = forms.BooleanField(
        label=_("I would welcome a closing session with my coach"),
        required=False,
        help_text=_("Optional. Only your coach will know."),
    )


class CancelForm(_NoTagHelperMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The other parties will receive it."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Please give a reason."))
        return reason


class HRInviteForm(_NoTagHelperMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none()
    )
    first_name = LineField(label=_("First name"), max_length=150)
    last_name = LineField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class HRFilterForm(forms.Form):
    """Filters of the HR portal (GET), also applied to the export of signed conventions."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Engagement.Status.choices],
    )
    period_from = DateField(label=_("From"), required=False, widget=DateInput())
    period_to = DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_from"), cleaned.get("period_to")
        if start and end and end < start:
            self.add_error("period_to", _("The end of the period comes before its start."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as plain data (kept with an export)."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        filters = {
            "q": data["q"].strip(),
            "status": data["status"],
            "period_from": data["period_from"].isoformat() if data["period_from"] else "",
            "period_to": data["period_to"].isoformat() if data["period_to"] else "",
        }
        return {key: value for key, value in filters.items() if value}


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class MeetingPlaceForm(_NoTagHelperMixin, forms.Form):
    """
    Where a meeting takes place: a video link, or a place when in person
    (the session's own rule: ``CoachingSession.clean`` says a place is needed).
    """

    format = forms.ChoiceField(label=_("Format"), choices=Format.choices)
    video_url = forms.URLField(
        label=_("Video link"), required=False, assume_scheme="https", max_length=2000
    )
    location = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=300,
        help_text=_("Required for an in-person meeting."),
    )


class KickoffScheduleForm(MeetingPlaceForm):
    starts_at = DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=480, initial=120
    )
    field_order = ["starts_at", "duration_minutes", "format", "video_url", "location"]

    def clean(self):
        data = super().clean()
        starts_at = data.get("starts_at")
        if starts_at and starts_at <= timezone.now():
            self.add_error("starts_at", _("Choose a date in the future."))
        return data


class KickoffOutcomeForm(_NoTagHelperMixin, forms.Form):
    coachee_expectations = forms.CharField(
        label=_("The coachee's expectations"), widget=forms.Textarea(attrs={"rows": 3})
    )
    sponsor_expectations = forms.CharField(
        label=_("The sponsor's expectations"), widget=forms.Textarea(attrs={"rows": 3})
    )
    coach_expectations = forms.CharField(
        label=_("The coach's expectations"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    reporting_scope = forms.CharField(
        label=_("What will be reported to the sponsor"),
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=_(
            "attendance, hours used, progress toward each objective with the goal-attainment "
            "scores, and a general comment."
        ),
    )


class ObjectiveForm(_NoTagHelperMixin, forms.Form):
    title = LineField(label=_("Objective"), max_length=300)
    success_indicators = forms.CharField(
        label=_("Success indicators"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What will show, concretely, that the objective is reached."),
    )


SCORE_CHOICES = [
    ("-2", _("−2 · much less than expected")),
    ("-1", _("−1 · less than expected")),
    ("0", _("0 · the expected outcome")),
    ("1", _("+1 · more than expected")),
    ("2", _("+2 · much more than expected")),
]


class ScoresForm(forms.Form):
    """
    One goal-attainment score per objective, from −2 to +2, given by the
    person filling it in (fields built from the objectives). Every objective
    is scored.
    """

    def __init__(self, *args, objectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.objectives = list(objectives)
        for objective in self.objectives:
            self.fields[f"score_{objective.pk}"] = forms.TypedChoiceField(
                label=objective.title,
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Give a score to this objective.")},
            )

    def rows(self):
        """(objective, its score field) for each objective."""
        return [(objective, self[f"score_{objective.pk}"]) for objective in self.objectives]

    def scores(self):
        return {
            objective.pk: self.cleaned_data[f"score_{objective.pk}"]
            for objective in self.objectives
        }


class ReportStartForm(_NoTagHelperMixin, forms.Form):
    """The period of a new report; ``reporting.report_start`` judges it."""

    period_start = DateField(label=_("From"), widget=DateInput())
    period_end = DateField(label=_("To"), widget=DateInput())


class ReportForm(forms.Form):
    """The coach's text: progress on each objective in words, and a general comment."""

    general_comment = forms.CharField(
        label=_("General comment"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        required=False,
        max_length=10000,
    )

    def __init__(self, *args, entries, **kwargs):
        super().__init__(*args, **kwargs)
        self.entries = list(entries)
        for entry in self.entries:
            self.fields[f"progress_{entry.objective_id}"] = forms.CharField(
                label=entry.objective.title,
                widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                required=False,
                max_length=10000,
                initial=entry.text,
            )

    def rows(self):
        return [(entry, self[f"progress_{entry.objective_id}"]) for entry in self.entries]

    def progress(self):
        return {
            entry.objective_id: self.cleaned_data[f"progress_{entry.objective_id}"]
            for entry in self.entries
        }


class ReportReturnForm(_NoTagHelperMixin, forms.Form):
    comment = forms.CharField(
        label=_("What should your coach change?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("Only your coach reads this comment; your sponsor never does."),
    )


class SignatureForm(_NoTagHelperMixin, forms.Form):
    code = forms.CharField(
        label=_("Code received by e-mail"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    typed_name = LineField(label=_("Type your full name"), max_length=200)
    consent = forms.BooleanField(label=_("I have read the convention and I sign it"))

    def __init__(self, *args, consent_text="", **kwargs):
        super().__init__(*args, **kwargs)
        if consent_text:
            self.fields["consent"].label = consent_text


# Their own context: a list starts with a capital in French, a date's
# weekday does not (« le mardi 15 décembre »), and both share Django's msgids.
WEEKDAYS = [
    (0, pgettext_lazy("weekday in a list", "Monday")),
    (1, pgettext_lazy("weekday in a list", "Tuesday")),
    (2, pgettext_lazy("weekday in a list", "Wednesday")),
    (3, pgettext_lazy("weekday in a list", "Thursday")),
    (4, pgettext_lazy("weekday in a list", "Friday")),
    (5, pgettext_lazy("weekday in a list", "Saturday")),
    (6, pgettext_lazy("weekday in a list", "Sunday")),
]


class SessionForm(MeetingPlaceForm):
    kind = forms.ChoiceField(label=_("Kind"))
    starts_at = DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=480, initial=120
    )
    field_order = ["kind", "starts_at", "duration_minutes", "format", "video_url", "location"]

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        from .models import CoachingSession

        self.fields["kind"].choices = [
            (kind, CoachingSession.Kind(kind).label.capitalize()) for kind in kinds
        ]


class SeriesForm(MeetingPlaceForm):
    first_day = DateField(label=_("From"), widget=DateInput())
    weekday = forms.TypedChoiceField(label=_("Day"), choices=WEEKDAYS, coerce=int)
    at = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    count = forms.IntegerField(label=_("Number of sessions"), min_value=1, max_value=40)
    every_weeks = forms.IntegerField(label=_("Every … weeks"), min_value=1, max_value=12, initial=4)
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=15, max_value=480, initial=120
    )


class RescheduleForm(_NoTagHelperMixin, forms.Form):
    starts_at = DateTimeField(label=_("New date and time"), widget=DateTimeInput())
    duration_minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=15, max_value=480)


class AttendanceForm(_NoTagHelperMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("The session was"),
        choices=[
            ("held", _("held: the coachee came")),
            ("missed", _("missed: the coachee did not come")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Attendance is either held or missed.")},
    )


class SessionCancelForm(_NoTagHelperMixin, forms.Form):
    message = forms.CharField(
        label=_("A message with the cancellation (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=CANCELLATION_MESSAGE_MAX_LENGTH,
        required=False,
        help_text=_("A few words, if you wish; no reason is needed."),
    )


class SharedNotesForm(_NoTagHelperMixin, forms.Form):
    summary = forms.CharField(
        label=_("Shared summary"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    action_plan = forms.CharField(
        label=_("Action plan"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class PrivateNoteForm(_NoTagHelperMixin, forms.Form):
    private_note = forms.CharField(
        label=_("My private notes (you alone see them)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )


class AvailabilityForm(_NoTagHelperMixin, forms.Form):
    availability = forms.CharField(
        label=_("Days and times that suit you"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("E.g. Tuesday or Thursday mornings, not in August."),
    )


class EngagementTermsForm(_NoTagHelperMixin, forms.ModelForm):
    """The terms of the convention; ``status`` is not among them (workflow.py moves it)."""

    class Meta:
        model = Engagement
        fields = list(TERM_FIELDS)
        widgets = {"start_date": DateInput(), "end_date": DateInput()}
        field_classes = {"start_date": DateField, "end_date": DateField}


class PasswordResetForm(auth_forms.PasswordResetForm):
    """
    Also reaches people who never chose a password (their invitation expired
    or was lost): the link lets them choose one. A few links per address and
    hour at most (``password_reset_claim``).
    """

    def get_users(self, email):
        """The account for ``email``, unless it already received its hourly share of links."""
        from .models import User
        from .services.accounts import password_reset_claim

        users = User.objects.filter(email__iexact=email.strip(), is_active=True)
        return [user for user in users if password_reset_claim(user=user)]

    def send_mail(self, *args, **kwargs):
        """In the person's own language, whatever screen the link was asked from."""
        context = kwargs.get("context", args[2] if len(args) > 2 else {})
        with translation.override(context["user"].language):
            super().send_mail(*args, **kwargs)


class ClosingStartForm(_NoTagHelperMixin, forms.Form):
    """What happens to the development sessions still planned when the closing review starts."""

    planned_sessions = forms.ChoiceField(
        label=_("The development sessions still planned"),
        choices=[
            ("cancel", _("Cancel them: everyone invited is told")),
            ("keep", _("Keep them: they take place during the closing review")),
        ],
        widget=forms.RadioSelect,
        initial="cancel",
    )


class SynthesisForm(_NoTagHelperMixin, forms.ModelForm):
    """The coach's synthesis; the parts are the model's (``ClosingReview.PARTS``)."""

    class Meta:
        model = ClosingReview
        fields = list(ClosingReview.PARTS)
        widgets = {part: forms.Textarea(attrs={"rows": 5}) for part in ClosingReview.PARTS}
        help_texts = {
            "learnings": _("What the coachee has learned about her or his practice and role."),
            "objectives_assessment": _(
                "Objective by objective, how far it was reached, in the light of the final scores."
            ),
            "recommendations": _("What the coachee can pursue alone, and with whom."),
        }


class SynthesisValidateForm(forms.Form):
    """The coachee's choice, part by part, of what the sponsor receives."""

    shared_parts = forms.MultipleChoiceField(
        label=_("What your sponsor receives"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shared_parts"].choices = [
            (name, label) for name, label, _text, _shared in review.parts()
        ]


class OrganizationDetailsForm(_NoTagHelperMixin, forms.Form):
    """The client organization's details that the convention prints."""

    registration_number = forms.CharField(
        label=_("Registration number (SIRET)"),
        max_length=40,
        required=False,
        help_text=_("As it appears on the organization's official documents."),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("As the convention prints it, six lines at most."),
    )
