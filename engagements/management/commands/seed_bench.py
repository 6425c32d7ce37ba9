"""
Fill an empty database with the benchmark data set (``make bench``, issue 13):
``manage.py seed_bench --engagements 1000``.

A practice of ``N / 100`` coaches (the first, ``bench-coach@example.org``,
holds about a hundred engagements), ``N / 200`` client organizations with
their HR, one coachee per engagement and one sponsor per five, and
engagements in every state of the workflow, each with the records it would
have at that point of its life: status changes (and their audit events),
objectives and goal-attainment scores, the kickoff, conventions with their
three signatures and evidence, about twelve sessions (past ones held, missed
or cancelled, future ones planned; one coach is never in two places at once),
private notes and shared summaries, sponsor reports (released, or being
written), closing reviews and final syntheses.

Rows are written with ``bulk_create`` so that 1,000 engagements take seconds,
not the hours the services would; the values are nonetheless the ones the
services and ``workflow.py`` write (a transition is a ``StatusChange`` and a
chained audit event, ``ended_at`` only on a terminal state...), so that the
data set never holds a state the product cannot reach. Every signed
convention shares one real sealed PDF (the convention and the evidence of its
three signatures, sealed like ``services.convention.convention_seal``), and
every final synthesis the two real sealed versions of one synthesis.

Personas (password printed at the end), the same at every size:

- ``bench-owner@example.org``: the practice owner (Django admin);
- ``bench-coach@example.org``: the coach of about 100 engagements;
- ``bench-coachee@example.org``: the coachee of the first (active) engagement;
- ``bench-sponsor@example.org``: the sponsor of the first five engagements;
- ``bench-hr@example.org``: HR of the first organization.
"""

import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from engagements import audit, workflow
from engagements.calendar import PARIS
from engagements.models import (
    AuditEvent,
    CalendarFeed,
    ClosingReview,
    Coach,
    CoachingSession,
    Convention,
    Engagement,
    Format,
    HRMembership,
    Kickoff,
    Objective,
    ObjectiveScore,
    Organization,
    PrivateNote,
    ReportProgress,
    SharedSummary,
    Signature,
    SponsorReport,
    StatusChange,
    User,
)
from engagements.pdf import convention_pdf
from engagements.services.convention import (
    CONSENT_TEXT,
    auth_method_text,
    final_document,
    signature_evidence,
    terms_for_display,
)
from engagements.signing import seal_pdf

Status = Engagement.Status
Kind = CoachingSession.Kind
SessionStatus = CoachingSession.Status
Milestone = ObjectiveScore.Milestone
Rater = ObjectiveScore.Rater

PASSWORD = "bench12345"
DOMAIN = "bench.example.org"
PERSONAS = {
    "owner": "bench-owner@example.org",
    "coach": "bench-coach@example.org",
    "coachee": "bench-coachee@example.org",
    "sponsor": "bench-sponsor@example.org",
    "hr": "bench-hr@example.org",
}

# The first eight engagements hold every state once (the personas' own);
# the rest follow a practice's usual mix (about 12 sessions per engagement).
FIRST = [
    Status.ACTIVE,  # the bench coachee's: engagement page, sessions, reports
    Status.COMPLETED,  # the final synthesis
    Status.CLOSING,  # the closing review and its scores
    Status.DRAFT,
    Status.KICKOFF,
    Status.CONTRACTING,
    Status.WITHDRAWN,
    Status.CANCELLED,
]
MIX = (
    [Status.DRAFT, Status.KICKOFF]
    + [Status.CONTRACTING] * 2
    + [Status.ACTIVE] * 8
    + [Status.CLOSING] * 2
    + [Status.COMPLETED] * 4
    + [Status.WITHDRAWN, Status.CANCELLED]
)

# Two-hour meetings, in Paris time, on weekdays: a coach's four slots a day.
SLOTS = (time(8, 30), time(11, 0), time(14, 0), time(16, 30))
DEVELOPMENT_INTERVAL = 27  # days between development sessions

TITLES = [
    "Premier poste de direction",
    "Manager de managers",
    "Entrée au comité de direction",
    "Prise de poste à l'international",
    "Direction d'une transformation",
]
FIRST_NAMES = ["Camille", "Julien", "Léa", "Hugo", "Inès", "Louis", "Chloé", "Adam", "Emma", "Noé"]
LAST_NAMES = ["Durand", "Petit", "Fontaine", "Garnier", "Haddad", "Weber", "Roux", "Morel"]
OBJECTIVES = [
    ("Déléguer les décisions opérationnelles", "Trois décisions par mois prises sans arbitrage."),
    ("Installer sa légitimité au comité", "Deux propositions portées et adoptées en comité."),
    ("Tenir des réunions courtes et utiles", "Comités hebdomadaires tenus en moins d'une heure."),
]
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140"
DOCUMENT_NAME = "conventions/bench-convention.pdf"
SIGNED_NAME = "conventions/signed/bench-convention-signed.pdf"
SYNTHESIS_NAMES = {
    "coachee": "syntheses/bench-synthese-coachee.pdf",
    "sponsor": "syntheses/bench-synthese-sponsor.pdf",
}


def sizes(engagements, *, coaches=None, organizations=None):
    """How many coaches, organizations and sponsors a data set of ``engagements`` has."""
    return {
        "coaches": coaches or max(1, round(engagements / 100)),
        "organizations": organizations or max(2, min(8, engagements // 200)),
        "sponsors": math.ceil(engagements / 5),
    }


def status_of(index):
    if index < len(FIRST):
        return FIRST[index]
    return MIX[(index - len(FIRST)) % len(MIX)]


@dataclass
class Targets:
    """The personas and the records the benchmark opens, found in a seeded database."""

    owner: User
    coach: User
    coachee: User
    sponsor: User
    hr: User
    active: Engagement
    completed: Engagement
    closing: Engagement
    report: SponsorReport
    draft_report: SponsorReport
    session: CoachingSession
    feeds: dict = field(default_factory=dict)


def targets():
    """Where the benchmark and its tests point (``seed_bench`` must have run)."""
    people = {key: User.objects.get(email=email) for key, email in PERSONAS.items()}
    coach = people["coach"]
    mine = Engagement.objects.filter(coach__user=coach, sponsor=people["sponsor"]).order_by("pk")
    active = mine.get(coachee=people["coachee"], status=Status.ACTIVE)
    return Targets(
        **people,
        active=active,
        completed=mine.filter(status=Status.COMPLETED).first(),
        closing=mine.filter(status=Status.CLOSING).first(),
        report=active.reports.filter(status=SponsorReport.Status.RELEASED).first(),
        draft_report=active.reports.filter(status=SponsorReport.Status.DRAFT).first(),
        session=active.sessions.filter(kind=Kind.DEVELOPMENT, status=SessionStatus.HELD).first(),
        feeds={
            feed.user_id: feed.token
            for feed in CalendarFeed.objects.filter(user__in=list(people.values()))
        },
    )


class Slots:
    """Each coach's booked slots, so that no coach holds two meetings at once."""

    def __init__(self, now):
        self.taken = set()
        self.now = now

    def book(self, coach_index, moment, *, past=None):
        """The free slot nearest to ``moment`` (in the past or future if ``past`` says so)."""
        day = timezone.localtime(moment, PARIS).date()
        for offset in range(0, 30):
            for candidate in (day + timedelta(days=offset), day - timedelta(days=offset)):
                if candidate.weekday() >= 5:
                    continue
                for slot in SLOTS:
                    start = datetime.combine(candidate, slot, tzinfo=PARIS)
                    key = (coach_index, start)
                    if key in self.taken:
                        continue
                    if past is True and start + timedelta(hours=2) > self.now:
                        continue
                    if past is False and start < self.now:
                        continue
                    self.taken.add(key)
                    return start
        raise CommandError(f"Coach {coach_index} has no free slot within a month of {day}.")


class Builder:
    """The rows of the data set, in memory, written in dependency order by ``save``."""

    def __init__(self, count, now, password_hash, size):
        self.count = count
        self.size = size
        self.now = now
        self.password_hash = password_hash
        self.slots = Slots(now)
        self.rows = {
            model: []
            for model in (
                StatusChange,
                Objective,
                Kickoff,
                Convention,
                Signature,
                CoachingSession,
                PrivateNote,
                SharedSummary,
                SponsorReport,
                ReportProgress,
                ObjectiveScore,
                ClosingReview,
            )
        }
        # (moment, engagement, actor, action, record, detail), chained once saved.
        self.events = []
        self.focus_signatures = []

    # -- people -------------------------------------------------------------

    def user(self, email, first, last, **extra):
        return User(
            email=email,
            first_name=first,
            last_name=last,
            password=self.password_hash,
            date_joined=self.now - timedelta(days=800),
            **extra,
        )

    def people(self):
        size = self.size
        name = lambda n: (FIRST_NAMES[n % 10], LAST_NAMES[(n // 10) % 8])  # noqa: E731
        owner = self.user(PERSONAS["owner"], "Agnès", "Morel", is_staff=True, is_superuser=True)
        coaches = [self.user(PERSONAS["coach"], "Claire", "Martin")] + [
            self.user(f"coach{n}@{DOMAIN}", *name(n)) for n in range(1, size["coaches"])
        ]
        coachees = [self.user(PERSONAS["coachee"], "Camille", "Durand")] + [
            self.user(f"coachee{n}@{DOMAIN}", *name(n + 3)) for n in range(1, self.count)
        ]
        sponsors = [self.user(PERSONAS["sponsor"], "Sophie", "Bernard")] + [
            self.user(f"sponsor{n}@{DOMAIN}", *name(n + 7)) for n in range(1, size["sponsors"])
        ]
        hrs = [self.user(PERSONAS["hr"], "Hélène", "Roux")] + [
            self.user(f"hr{n}@{DOMAIN}", *name(n + 5)) for n in range(1, size["organizations"])
        ]
        User.objects.bulk_create([owner, *coaches, *coachees, *sponsors, *hrs])
        self.owner = owner
        self.coach_users = coaches
        self.coachees = coachees
        self.sponsors = sponsors
        self.coaches = Coach.objects.bulk_create(
            [Coach(user=user, credentials="ICF PCC", bio="Coach certifiée.") for user in coaches]
        )
        self.organizations = Organization.objects.bulk_create(
            [
                Organization(
                    name=f"Bench Organisation {n + 1}",
                    address=f"{n + 1} quai de la Loire, 69002 Lyon",
                    registration_number=f"812 345 {n:03d} 00021",
                )
                for n in range(size["organizations"])
            ]
        )
        HRMembership.objects.bulk_create(
            [
                HRMembership(user=user, organization=organization)
                for user, organization in zip(hrs, self.organizations, strict=True)
            ]
        )
        CalendarFeed.objects.bulk_create(
            [
                CalendarFeed(user=user, token=secrets.token_urlsafe(32))
                for user in (coaches[0], coachees[0], sponsors[0], hrs[0])
            ]
        )

    # -- engagements --------------------------------------------------------

    def engagements(self):
        size = self.size
        self.plans = []
        engagements = []
        for index in range(self.count):
            # Runs of the mix, dealt to the coaches in turn: each holds every state.
            coach_index = 0 if index < len(FIRST) else (index // len(MIX)) % size["coaches"]
            organization = self.organizations[(index // 5) % size["organizations"]]
            engagement = Engagement(
                organization=organization,
                coach=self.coaches[coach_index],
                coachee=self.coachees[index],
                sponsor=self.sponsors[index // 5],
                title=TITLES[index % len(TITLES)],
                coachee_job_title="Directrice des opérations",
                sponsor_job_title="Directeur général adjoint",
                status=status_of(index),
                language="fr",
                start_date=self.now.date(),  # set by the plan
                end_date=self.now.date() + timedelta(days=365),
                sessions_contracted=12,
                session_minutes=120,
                format=Format.IN_PERSON if index % 4 == 3 else Format.VIDEO,
                fee_amount=Decimal("14400.00"),
                cancellation_notice_hours=48,
            )
            engagement.coach_index = coach_index
            engagement.index = index
            engagements.append(engagement)
            self.plan(engagement)
        Engagement.objects.bulk_create(engagements)
        # created_at is auto_now_add: put it back where the story began.
        for engagement in engagements:
            engagement.created_at = engagement.opened_at
        Engagement.objects.bulk_update(engagements, ["created_at"], batch_size=500)
        self.all_engagements = engagements

    def plan(self, engagement):
        """Walk ``engagement`` through its life, up to its state, as the services would."""
        index, now = engagement.index, self.now
        status = engagement.status
        day = timedelta(days=1)
        if status == Status.DRAFT:
            opened = now - (2 + index % 5) * day
            engagement.start_date = (now + (30 + index % 30) * day).date()
            self.finish(engagement, opened, [])
            self.objectives(engagement, count=1, approved_at=None, proposed_at=opened)
            return
        if status == Status.KICKOFF:
            kickoff = self.meeting(engagement, Kind.KICKOFF, now + (index % 10 - 4) * day)
            opened = kickoff.starts_at - 14 * day
            moves = [("schedule_kickoff", kickoff.starts_at - 10 * day)]
            held = kickoff.status == SessionStatus.HELD
            if held:
                self.kickoff_record(engagement, kickoff)
            self.objectives(
                engagement,
                count=3 if held else 2,
                approved_at=kickoff.starts_at + 2 * day if held else None,
                proposed_at=opened,
            )
            self.finish(engagement, opened, moves, start=kickoff.starts_at)
            return
        if status == Status.CANCELLED:
            kickoff = self.meeting(engagement, Kind.KICKOFF, now - (20 + index % 60) * day)
            opened = kickoff.starts_at - 14 * day
            self.kickoff_record(engagement, kickoff)
            self.objectives(engagement, count=2, approved_at=None, proposed_at=opened)
            moves = [
                ("schedule_kickoff", kickoff.starts_at - 10 * day),
                ("cancel", kickoff.starts_at + 5 * day),
            ]
            self.finish(engagement, opened, moves, start=kickoff.starts_at)
            return

        # Past the kickoff: objectives agreed, the convention sent.
        back = {
            Status.CONTRACTING: 15 + index % 15,
            # The bench coachee's is past its mid-point: a released report, another begun.
            Status.ACTIVE: 250 if index == 0 else 30 + (index * 37) % 300,
            Status.WITHDRAWN: 220 + (index * 11) % 120,
            Status.CLOSING: 335 + (index * 7) % 15,
            Status.COMPLETED: 420 + (index * 13) % 200,
        }[status]
        kickoff = self.meeting(engagement, Kind.KICKOFF, now - back * day, past=True)
        start = kickoff.starts_at
        opened = start - 14 * day
        self.kickoff_record(engagement, kickoff)
        objectives = self.objectives(
            engagement, count=3, approved_at=start + 2 * day, proposed_at=opened
        )
        sent_at = start + 4 * day
        moves = [("schedule_kickoff", start - 10 * day), ("send_convention", sent_at)]
        if status == Status.CONTRACTING:
            self.convention(engagement, sent_at, signatures=engagement.index % 3)
            if index % 2:
                self.scores(objectives, Milestone.BASELINE, Rater.COACHEE, sent_at + day)
            self.finish(engagement, opened, moves, start=start)
            return

        signed_at = start + 9 * day
        self.convention(engagement, sent_at, signatures=3, sealed_at=signed_at)
        moves.append(("activate", signed_at))
        self.scores(objectives, Milestone.BASELINE, Rater.COACHEE, signed_at + day)
        self.scores(objectives, Milestone.BASELINE, Rater.SPONSOR, signed_at + 2 * day)
        withdrawn_at = None
        if status == Status.WITHDRAWN:
            # Early (after three sessions) or after the mid-point report was written.
            used = 3 if index % 2 == 0 else 7
            withdrawn_at = start + (14 + DEVELOPMENT_INTERVAL * used + 5) * day
        sessions = self.development(engagement, start, until=withdrawn_at)
        midpoint = self.meeting(
            engagement,
            Kind.MIDPOINT,
            start + (14 + DEVELOPMENT_INTERVAL * 5 + 13) * day,
            cancelled_at=withdrawn_at,
        )
        self.reports(engagement, objectives, sessions, midpoint, start, withdrawn_at)
        if status == Status.ACTIVE:
            self.finish(engagement, opened, moves, start=start)
            return
        if status == Status.WITHDRAWN:
            moves.append(("withdraw", withdrawn_at))
            self.finish(engagement, opened, moves, start=start)
            return

        closing_started = start + 330 * day if status == Status.COMPLETED else now - 4 * day
        moves.append(("start_closing", closing_started))
        if status == Status.CLOSING:
            meeting = self.meeting(engagement, Kind.CLOSING, now + 5 * day, past=False)
            self.closing_review(engagement, closing_started, meeting, completed=False)
            if index % 2:
                self.scores(objectives, Milestone.CLOSING, Rater.COACHEE, now - day)
            self.finish(engagement, opened, moves, start=start)
            return
        meeting = self.meeting(engagement, Kind.CLOSING, start + 340 * day, past=True)
        completed_at = self.closing_review(engagement, closing_started, meeting, completed=True)
        self.scores(objectives, Milestone.CLOSING, Rater.COACHEE, meeting.starts_at + 2 * day)
        self.scores(objectives, Milestone.CLOSING, Rater.SPONSOR, meeting.starts_at + 3 * day)
        moves.append(("complete", completed_at))
        self.finish(engagement, opened, moves, start=start)

    def finish(self, engagement, opened, moves, start=None):
        """Dates, status changes and their audit events, from the moves made."""
        engagement.opened_at = opened
        if start is not None:
            engagement.start_date = timezone.localtime(start, PARIS).date()
        engagement.end_date = engagement.start_date + timedelta(days=365)
        engagement.status_changed_at = opened
        previous = Status.DRAFT
        actors = {
            "schedule_kickoff": ("coach", engagement.coach.user),
            "send_convention": ("coach", engagement.coach.user),
            "activate": ("", None),
            "start_closing": ("coach", engagement.coach.user),
            "complete": ("", None),
            "withdraw": ("coachee", engagement.coachee),
            "cancel": ("sponsor", engagement.sponsor),
        }
        targets = {
            "schedule_kickoff": Status.KICKOFF,
            "send_convention": Status.CONTRACTING,
            "activate": Status.ACTIVE,
            "start_closing": Status.CLOSING,
            "complete": Status.COMPLETED,
            "withdraw": Status.WITHDRAWN,
            "cancel": Status.CANCELLED,
        }
        for name, moment in moves:
            role, actor = actors[name]
            change = StatusChange(
                engagement=engagement,
                from_status=previous,
                to_status=targets[name],
                actor=actor,
                actor_role=role,
                reason="Réorganisation du service : le poste est supprimé."
                if name == "cancel"
                else "",
                created_at=moment,
            )
            self.rows[StatusChange].append(change)
            self.events.append(
                (
                    moment,
                    engagement,
                    actor,
                    AuditEvent.Action.TRANSITION,
                    engagement,
                    {"transition": name, "from": str(previous), "to": str(targets[name])},
                )
            )
            previous = targets[name]
            engagement.status_changed_at = moment
        if previous != engagement.status:
            raise CommandError(f"Engagement {engagement.index} planned to {previous}.")
        if engagement.is_terminal:
            engagement.ended_at = engagement.status_changed_at

    # -- records ------------------------------------------------------------

    def meeting(self, engagement, kind, moment, *, past=None, cancelled_at=None):
        """One meeting of ``kind``: held when past, planned when future (or cancelled)."""
        if past is None:
            past = moment < self.now
        starts_at = self.slots.book(engagement.coach_index, moment, past=past)
        session = CoachingSession(
            engagement=engagement,
            coach_id=engagement.coach_id,
            kind=kind,
            starts_at=starts_at,
            duration_minutes=120,
            format=engagement.format,
            status=SessionStatus.HELD if past else SessionStatus.PLANNED,
        )
        self.place(session, engagement)
        if cancelled_at is not None and starts_at > cancelled_at:
            self.cancel(session, cancelled_at, by=engagement.coachee, late=False)
        self.rows[CoachingSession].append(session)
        return session

    def place(self, session, engagement):
        if session.format == Format.IN_PERSON:
            session.location = f"Bench Organisation, salle {engagement.index % 7 + 1}, Lyon"
        else:
            session.video_url = f"https://visio.example.org/trio-{engagement.index}"

    def cancel(self, session, moment, *, by, late):
        session.status = SessionStatus.CANCELLED
        session.cancelled_at = moment
        session.cancelled_by = by
        session.cancelled_late = late
        session.sequence = 1

    def development(self, engagement, start, *, until=None):
        """
        The development sessions, every four weeks or so after the signature:
        past ones held (one missed now and then, one cancelled in time and
        booked again), future ones planned, or cancelled by a withdrawal.
        """
        index = engagement.index
        sessions = []
        for number in range(engagement.sessions_contracted):
            wanted = start + timedelta(days=14 + DEVELOPMENT_INTERVAL * number)
            if index % 2 == 0 and number == 2 and wanted < self.now - timedelta(days=5):
                # Cancelled by the coachee a week ahead, then booked again.
                dropped = self.meeting(engagement, Kind.DEVELOPMENT, wanted, past=True)
                moment = dropped.starts_at - timedelta(days=7)
                self.cancel(dropped, moment, by=engagement.coachee, late=False)
                wanted += timedelta(days=3)
            session = self.meeting(engagement, Kind.DEVELOPMENT, wanted, cancelled_at=until)
            if session.status == SessionStatus.HELD and number == 3 and index % 4 == 1:
                session.status = SessionStatus.MISSED
            if session.status == SessionStatus.HELD:
                self.notes(session, engagement)
            sessions.append(session)
        return sessions

    def notes(self, session, engagement):
        note = PrivateNote(
            session=session,
            body="Observé : prise de recul sur les arbitrages. Hypothèse à explorer : "
            "le besoin de tout valider. À reprendre la prochaine fois.",
        )
        summary = SharedSummary(
            session=session,
            summary="Nous avons travaillé la délégation de deux décisions de la semaine.",
            action_plan="Confier le comité du jeudi ; noter ce que je ressens en lâchant.",
            updated_by=engagement.coach.user,
        )
        # updated_at is auto_now: put back after the insert (``save``).
        note.written_at = summary.written_at = session.starts_at + timedelta(hours=3)
        self.rows[PrivateNote].append(note)
        self.rows[SharedSummary].append(summary)

    def kickoff_record(self, engagement, kickoff):
        self.rows[Kickoff].append(
            Kickoff(
                engagement=engagement,
                coachee_expectations="Prendre ma place dans l'équipe de direction.",
                sponsor_expectations="Qu'elle délègue davantage et porte ses sujets en comité.",
                coach_expectations="Un rythme régulier et des objectifs observables.",
                reporting_scope="L'assiduité, les heures et la progression sur chaque objectif.",
                recorded_by=engagement.coach.user,
                recorded_at=kickoff.starts_at + timedelta(hours=2),
            )
        )

    def objectives(self, engagement, *, count, approved_at, proposed_at):
        made = [
            Objective(
                engagement=engagement,
                position=position,
                title=title,
                success_indicators=indicators,
                proposed_by=engagement.coach.user if position < 3 else engagement.coachee,
                approved_by_coachee_at=approved_at,
            )
            for position, (title, indicators) in enumerate(OBJECTIVES[:count], start=1)
        ]
        self.rows[Objective].extend(made)
        engagement.planned_objectives = made
        return made

    def scores(self, objectives, milestone, rater, moment, *, report=None):
        for objective in objectives:
            engagement = objective.engagement
            self.rows[ObjectiveScore].append(
                ObjectiveScore(
                    objective=objective,
                    milestone=milestone,
                    report=report,
                    rater=rater,
                    scored_by=engagement.coachee if rater == Rater.COACHEE else engagement.sponsor,
                    score=(objective.position + engagement.index + len(milestone)) % 5 - 2,
                    scored_at=moment,
                )
            )

    def convention(self, engagement, sent_at, *, signatures, sealed_at=None):
        """Version 1 sent at ``sent_at``, with ``signatures`` of three, sealed if all signed."""
        convention = Convention(
            engagement=engagement,
            version=1,
            status=Convention.Status.SENT,
            terms=self.terms(engagement, sent_at),
            document=DOCUMENT_NAME,
            sent_at=sent_at,
        )
        self.rows[Convention].append(convention)
        language = engagement.language
        made = []
        for number, (role, signer) in enumerate(
            [
                ("coach", engagement.coach.user),
                ("coachee", engagement.coachee),
                ("sponsor", engagement.sponsor),
            ][:signatures]
        ):
            signed_at = sent_at + timedelta(days=1 + number, hours=2)
            code_sent_at = signed_at - timedelta(minutes=3)
            signature = Signature(
                convention=convention,
                signer=signer,
                role=role,
                signed_at=signed_at,
                typed_name=signer.get_full_name(),
                ip_address=f"192.0.2.{engagement.index % 250 + 1}",
                user_agent=USER_AGENT,
                auth_method=auth_method_text(
                    language=language,
                    email=signer.email,
                    sent_at=code_sent_at,
                    verified_at=signed_at,
                ),
                authenticated_at=signed_at,
                consent_text=CONSENT_TEXT[language].format(version=1),
            )
            made.append(signature)
            self.events.append(
                (
                    signed_at,
                    engagement,
                    signer,
                    AuditEvent.Action.SIGN,
                    convention,
                    {"version": 1, "role": role, "signature": signature},
                )
            )
        self.rows[Signature].extend(made)
        if sealed_at is not None:
            convention.status = Convention.Status.SIGNED
            convention.signed_document = SIGNED_NAME
            convention.signed_at = sealed_at
            convention.evidence = evidence(convention, made)
            if not self.focus_signatures:
                self.focus_signatures = made
                self.focus_convention = convention

    def terms(self, engagement, sent_at):
        """The snapshot ``services.convention.convention_terms`` freezes, from memory."""
        coach = engagement.coach.user
        return {
            "version": 1,
            "language": engagement.language,
            "issued_on": timezone.localtime(sent_at, PARIS).date().isoformat(),
            "title": engagement.title,
            "organization": {
                "name": engagement.organization.name,
                "address": engagement.organization.address,
                "registration_number": engagement.organization.registration_number,
            },
            "coach": {
                "name": coach.get_full_name() or coach.email,
                "email": coach.email,
                "credentials": engagement.coach.credentials,
            },
            "coachee": {
                "name": engagement.coachee.get_full_name(),
                "email": engagement.coachee.email,
                "job_title": engagement.coachee_job_title,
            },
            "sponsor": {
                "name": engagement.sponsor.get_full_name(),
                "email": engagement.sponsor.email,
                "job_title": engagement.sponsor_job_title,
            },
            # Dates are fixed by ``finish`` once the kickoff is placed: see ``save``.
            "start_date": None,
            "end_date": None,
            "sessions_contracted": engagement.sessions_contracted,
            "session_minutes": engagement.session_minutes,
            "format": engagement.format,
            "fee_amount": str(engagement.fee_amount),
            "cancellation_notice_hours": engagement.cancellation_notice_hours,
            "objectives": [
                {"title": o.title, "success_indicators": o.success_indicators}
                for o in engagement.planned_objectives
            ],
            "expectations": {
                "coachee": "Prendre ma place dans l'équipe de direction.",
                "sponsor": "Qu'elle délègue davantage et porte ses sujets en comité.",
                "coach": "Un rythme régulier et des objectifs observables.",
            },
            "reporting_scope": "L'assiduité, les heures et la progression sur chaque objectif.",
            "retention": {
                "notes_days": settings.SESSION_NOTES_RETENTION_DAYS,
                "convention_years": settings.CONVENTION_RETENTION_DAYS // 365,
                "personal_data_years": settings.PERSONAL_DATA_RETENTION_DAYS // 365,
            },
        }

    def reports(self, engagement, objectives, sessions, midpoint, start, withdrawn_at):
        """
        The mid-point report, released once the coachee approved it when
        enough time has passed; a second one being written later on; a
        report open at a withdrawal is closed, never released.
        """
        period_end = timezone.localtime(midpoint.starts_at, PARIS).date()
        written = midpoint.starts_at + timedelta(days=2)
        if written + timedelta(days=6) > self.now and withdrawn_at is None:
            return
        in_period = [s for s in sessions if s.starts_at.date() <= period_end]
        held = sum(1 for s in in_period if s.status == SessionStatus.HELD)
        missed = sum(1 for s in in_period if s.status == SessionStatus.MISSED)
        report = SponsorReport(
            engagement=engagement,
            author=engagement.coach.user,
            period_start=timezone.localtime(start, PARIS).date(),
            period_end=period_end,
            sessions_held=held,
            sessions_missed=missed,
            hours_used=Decimal(held + missed) * 2,
            general_comment="Engagement régulier ; les premiers effets sont visibles en comité.",
            submitted_at=written,
        )
        if withdrawn_at is not None:
            if written > withdrawn_at:
                return
            report.status = SponsorReport.Status.CLOSED
            report.closed_at = withdrawn_at
        else:
            report.status = SponsorReport.Status.RELEASED
            report.approved_at = report.released_at = written + timedelta(days=3)
            approved = report.approved_at
            self.scores(objectives, Milestone.REPORT, Rater.COACHEE, approved, report=report)
            self.scores(
                objectives,
                Milestone.REPORT,
                Rater.SPONSOR,
                report.released_at + timedelta(days=2),
                report=report,
            )
        self.rows[SponsorReport].append(report)
        self.progress(report, objectives)
        if (
            workflow.allows(engagement, "start_report")
            and engagement.index % 3 == 0
            and sessions[8].starts_at < self.now
        ):
            later = SponsorReport(
                engagement=engagement,
                author=engagement.coach.user,
                period_start=period_end + timedelta(days=1),
                period_end=timezone.localtime(sessions[8].starts_at, PARIS).date(),
                status=SponsorReport.Status.DRAFT,
                general_comment="À compléter après la prochaine séance.",
            )
            self.rows[SponsorReport].append(later)
            self.progress(later, objectives)

    def progress(self, report, objectives):
        self.rows[ReportProgress].extend(
            ReportProgress(report=report, objective=o, text="Progrès nets, à consolider.")
            for o in objectives
        )

    def closing_review(self, engagement, started, meeting, *, completed):
        review = ClosingReview(
            engagement=engagement,
            learnings="Déléguer sans se désengager ; dire non à temps.",
            metacognitive_skills="Elle repère ses automatismes et s'accorde un temps de recul.",
            objectives_assessment="Deux objectifs atteints, le troisième en bonne voie.",
            recommendations="Un point trimestriel avec sa directrice.",
            share_learnings=True,
            share_objectives_assessment=True,
            share_recommendations=engagement.index % 2 == 0,
        )
        if not completed:
            if engagement.index % 2:
                review.status = ClosingReview.Status.AWAITING_COACHEE
                review.submitted_at = self.now - timedelta(days=1)
            self.rows[ClosingReview].append(review)
            return None
        review.submitted_at = meeting.starts_at + timedelta(days=3)
        review.coachee_validated_at = meeting.starts_at + timedelta(days=5)
        review.generation_requested_at = review.coachee_validated_at + timedelta(hours=1)
        review.completed_at = review.generation_requested_at + timedelta(minutes=1)
        review.status = ClosingReview.Status.COMPLETED
        review.synthesis_pdf = SYNTHESIS_NAMES["coachee"]
        review.sponsor_pdf = SYNTHESIS_NAMES["sponsor"]
        # The real hashes are written once the shared documents are made (``documents``).
        review.synthesis_sha256 = review.sponsor_sha256 = "pending"
        self.rows[ClosingReview].append(review)
        return review.completed_at

    # -- writing ------------------------------------------------------------

    def save(self):
        for convention in self.rows[Convention]:
            engagement = convention.engagement
            convention.terms["start_date"] = engagement.start_date.isoformat()
            convention.terms["end_date"] = engagement.end_date.isoformat()
        document, sealed = self.convention_documents()
        sha = hashlib.sha256(document).hexdigest()
        for convention in self.rows[Convention]:
            convention.document_sha256 = sha
        for signature in self.rows[Signature]:
            signature.document_sha256 = sha
        for convention in self.rows[Convention]:
            for item in convention.evidence:
                item["document_sha256"] = sha
        store(DOCUMENT_NAME, document)
        store(SIGNED_NAME, sealed)
        for model, rows in self.rows.items():
            model.objects.bulk_create(rows, batch_size=1000)
        # Notes keep the time they were written, not today's (auto_now).
        for model in (PrivateNote, SharedSummary):
            for row in self.rows[model]:
                row.updated_at = row.written_at
            model.objects.bulk_update(self.rows[model], ["updated_at"], batch_size=1000)
        self.synthesis_documents()
        audit.record(
            *[
                audit.event(
                    action=action,
                    record_type="engagement" if record is engagement else "convention",
                    actor=actor,
                    engagement=engagement,
                    record_id=record.pk,
                    detail={
                        key: value.pk if isinstance(value, Signature) else value
                        for key, value in detail.items()
                    },
                    at=moment,
                )
                for moment, engagement, actor, action, record, detail in sorted(
                    self.events, key=lambda e: e[0]
                )
            ]
        )

    def convention_documents(self):
        """The convention of the first signed engagement, and it sealed with its evidence."""
        convention = self.focus_convention
        document = convention_pdf(terms_for_display(convention.terms))
        sha = hashlib.sha256(document).hexdigest()
        for item in convention.evidence:
            item["document_sha256"] = sha
        convention.document_sha256 = sha
        sealed = seal_pdf(
            final_document(convention, convention.evidence),
            reason="Convention v1 signed by the three parties",
        )
        return document, sealed

    def synthesis_documents(self):
        """Both versions of one real final synthesis, shared by every completed engagement."""
        from engagements.services.closing import _document

        completed = ClosingReview.Status.COMPLETED
        reviews = [r for r in self.rows[ClosingReview] if r.status == completed]
        if not reviews:
            return
        hashes = {}
        for version, name in SYNTHESIS_NAMES.items():
            sealed = seal_pdf(_document(reviews[0], version), reason="Final synthesis")
            store(name, sealed)
            hashes[version] = hashlib.sha256(sealed).hexdigest()
        ClosingReview.objects.filter(pk__in=[r.pk for r in reviews]).update(
            synthesis_sha256=hashes["coachee"], sponsor_sha256=hashes["sponsor"]
        )


def evidence(convention, signatures):
    """What ``services.convention.signatures_evidence`` keeps, from unsaved signatures."""
    language = convention.terms.get("language", "fr")
    return [signature_evidence(signature, language) for signature in signatures]


def store(name, content):
    """Write a shared document under a fixed name (replacing an earlier run's)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:
        raise CommandError(f"Could not store {name} (stored as {saved}).")


def seed(engagements, *, password=PASSWORD, coaches=None, organizations=None):
    """
    Build the data set in one transaction. Returns the row counts written.
    ``coaches`` and ``organizations`` override the usual proportions (tests
    use them to grow every list at a small size).
    """
    if engagements < 1:
        raise CommandError("--engagements must be at least 1.")
    if User.objects.filter(email__in=PERSONAS.values()).exists() or Engagement.objects.exists():
        raise CommandError("seed_bench fills an empty database: this one already has data.")
    now = timezone.now().replace(microsecond=0)
    size = sizes(engagements, coaches=coaches, organizations=organizations)
    builder = Builder(engagements, now, make_password(password), size)
    with transaction.atomic():
        builder.people()
        builder.engagements()
        builder.save()
    return {
        "engagements": engagements,
        "sessions": len(builder.rows[CoachingSession]),
        "status changes": len(builder.rows[StatusChange]),
        "objectives": len(builder.rows[Objective]),
        "scores": len(builder.rows[ObjectiveScore]),
        "signatures": len(builder.rows[Signature]),
        "reports": len(builder.rows[SponsorReport]),
        "audit events": len(builder.events),
    }


class Command(BaseCommand):
    help = "Fill an empty database with the benchmark data set (see make bench)."

    def add_arguments(self, parser):
        parser.add_argument("--engagements", type=int, default=1000)
        parser.add_argument("--password", default=PASSWORD)
        parser.add_argument("--coaches", type=int, help="Default: one per 100 engagements.")
        parser.add_argument(
            "--organizations", type=int, help="Default: one per 200 engagements (2 to 8)."
        )

    def handle(self, *args, engagements=1000, password=PASSWORD, **options):
        call_command("create_signing_certificate", stdout=self.stdout)
        started = timezone.now()
        counts = seed(
            engagements,
            password=password,
            coaches=options.get("coaches"),
            organizations=options.get("organizations"),
        )
        # The planner's statistics, as autovacuum keeps them on a live database:
        # rows loaded in bulk leave them empty, and plans would scan whole tables.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Seeded in {seconds:.1f} s: "
            + ", ".join(f"{count} {name}" for name, count in counts.items())
        )
        self.stdout.write(f"Personas (password {password}):")
        for role, email in PERSONAS.items():
            self.stdout.write(f"  {role:8} {email}")
