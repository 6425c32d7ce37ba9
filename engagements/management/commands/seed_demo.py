"""
Load the demo practice: two coaches, two client organizations with their HR,
and engagements in every state, with sponsor reports at each step of their
approval and a completed engagement with its final synthesis, so every screen
has something real to show.

Every engagement is built the way its users build it, click by click: through
the services and the workflow, each action at the moment it happened in the
story (``clock.at``). So the demo holds nothing the product could not have
written: signatures carry the evidence of a real signing, cancelled sessions
their calendar cancellation, transitions their history. The story's e-mails
(signature codes, invitations, notices) stay in memory and are dropped.

Only for the demo database (DJANGO_DEBUG=1). Running it again changes nothing.
"""

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from coaching.celery import app as celery_app
from engagements import clock
from engagements.calendar import PARIS
from engagements.models import Coach, CoachingSession, Convention, Format, Organization, User
from engagements.services.accounts import hr_grant
from engagements.services.closing import (
    closing_scores_give,
    closing_start,
    synthesis_generate,
    synthesis_issue,
    synthesis_save,
    synthesis_submit,
    synthesis_validate,
)
from engagements.services.convention import (
    convention_seal,
    convention_send,
    convention_sign,
    document_access_log,
    signature_code_send,
)
from engagements.services.engagements import (
    Person,
    engagement_cancel,
    engagement_open,
    engagement_withdraw,
)
from engagements.services.kickoff import (
    kickoff_record,
    kickoff_schedule,
    objective_approve,
    objective_save,
)
from engagements.services.reporting import (
    baseline_scores_give,
    report_approve,
    report_return,
    report_save,
    report_scores_give,
    report_start,
    report_submit,
    report_suggested_period,
)
from engagements.services.sessions import (
    series_create,
    series_plan,
    session_attendance_record,
    session_cancel,
    session_notes_save,
    session_schedule,
)

PASSWORD = "demo12345"
ORGANIZATION_NAMES = ("Helix Énergies", "Nordwind Logistique")

PEOPLE = {
    "admin": ("admin@demo.example", "Agnès", "Morel"),
    "coach": ("coach@demo.example", "Claire", "Martin"),
    "coach2": ("coach2@demo.example", "Marc", "Lefèvre"),
    "coachee": ("coachee@demo.example", "Camille", "Durand"),
    "sponsor": ("sponsor@demo.example", "Sophie", "Bernard"),
    "hr": ("hr@demo.example", "Hélène", "Roux"),
    "hr2": ("hr2@demo.example", "Thomas", "Weber"),
    "ceo": ("pdg@demo.example", "Louis", "Garnier"),
    "coachee2": ("julien.petit@demo.example", "Julien", "Petit"),
    "sponsor2": ("ines.haddad@demo.example", "Inès", "Haddad"),
    "coachee3": ("lea.fontaine@demo.example", "Léa", "Fontaine"),
}

LOGINS = [
    ("coach@demo.example", "coach (Claire Martin)"),
    ("coach2@demo.example", "second coach (Marc Lefèvre)"),
    ("coachee@demo.example", "coachee (Camille Durand)"),
    ("sponsor@demo.example", "sponsor (Sophie Bernard), also coached by Marc"),
    ("hr@demo.example", "HR of Helix Énergies (Hélène Roux)"),
    ("hr2@demo.example", "HR of Nordwind Logistique (Thomas Weber)"),
    ("admin@demo.example", "practice owner, Django admin at /admin/"),
]

# The coach proposes the first two; the coachee writes the third herself.
OBJECTIVES = [
    (
        "Déléguer les décisions opérationnelles à mon équipe de managers",
        "Trois décisions par mois prises sans arbitrage de ma part ; "
        "comités hebdomadaires tenus en moins d'une heure.",
    ),
    (
        "Installer ma légitimité au comité de direction",
        "Deux propositions portées et adoptées en comité ; retour de la "
        "commanditaire sur ma posture à mi-parcours.",
    ),
    (
        "Prendre du recul dans les situations de tension",
        "Je sais nommer ce qui se joue avant de décider ; moins de "
        "réunions de crise non planifiées.",
    ),
]

KICKOFF_OUTCOME = {
    "coachee_expectations": "Prendre la mesure de mon nouveau périmètre sans tout porter "
    "seule ; être reconnue comme directrice par mes pairs.",
    "sponsor_expectations": "Qu'elle délègue davantage et prenne sa place au comité de "
    "direction d'ici la fin de l'année.",
    "coach_expectations": "Un engagement régulier dans les séances et des essais concrets "
    "entre deux séances.",
    "reporting_scope": "L'assiduité, les heures consommées, la progression sur chaque "
    "objectif et un commentaire général ; jamais le contenu des séances.",
}

# What the coach notes privately, the summary they share, and the action plan
# the coachee writes after each session (in turn).
SESSION_NOTES = [
    (
        "Hypothèse : la difficulté à déléguer tient à la peur de perdre la vue "
        "d'ensemble. À explorer.",
        "Analyse d'une situation de délégation récente : ce qui a été décidé, par qui, "
        "et ce que j'ai ressenti.",
        "Confier l'arbitrage du planning à Paul ; noter mes réactions pendant deux semaines.",
    ),
    (
        "Beaucoup de « il faut » dans son discours. Revenir sur ce qu'elle choisit vraiment.",
        "Relecture du dernier comité de direction : les moments où j'ai pris la parole, "
        "ceux où je me suis retenue.",
        "Préparer le prochain comité avec une proposition écrite et un allié identifié.",
    ),
    (
        "Progrès net sur la délégation. La tension avec le directeur financier reste vive.",
        "Ce que Paul a décidé seul depuis un mois, et ce que cela a changé pour l'équipe.",
        "Étendre la délégation aux arbitrages de maintenance ; point hebdomadaire de 20 minutes.",
    ),
    (
        "Elle nomme mieux ce qui se joue. Proposer l'exercice des trois lectures.",
        "Une réunion de crise rejouée : ce que j'ai vu, ce que j'ai supposé, ce que j'ai fait.",
        "Avant chaque arbitrage difficile, écrire trois lectures possibles de la situation.",
    ),
    (
        "Séance dense. Fatigue visible : vérifier la charge à la prochaine séance.",
        "Bilan d'étape sur les trois objectifs : ce qui a bougé, ce qui résiste.",
        "Partager avec Sophie deux décisions prises par l'équipe sans moi.",
    ),
    (
        "Posture plus assurée en comité, d'après elle et d'après les exemples donnés.",
        "Ma place au comité de direction : les sujets que je porte désormais.",
        "Porter la proposition sur le plan de charge au comité de mars.",
    ),
]

# Each party signs from their own computer (documentation address ranges).
SIGNING_BROWSERS = {
    "coach": (
        "198.51.100.23",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    "sponsor": (
        "203.0.113.54",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ),
    "coachee": (
        "192.0.2.87",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
}

CANCELLATION_REASON = "Réorganisation du périmètre après la fusion : le poste est supprimé."

# Goal-attainment scores (−2..+2) per objective, in the order of OBJECTIVES,
# as the coachee (self) and the sponsor (observed) give them at each milestone.
SCORES = {
    "baseline": {"coachee": (-1, -1, -2), "sponsor": (-2, -1, -1)},
    "report": {"coachee": (0, -1, -1), "sponsor": (0, 0, -1)},
    "closing": {"coachee": (2, 1, 1), "sponsor": (1, 1, 0)},
}

REPORT = {
    "progress": (
        "Camille confie désormais l'arbitrage du planning à son adjoint ; les comités "
        "hebdomadaires tiennent en une heure. Elle souhaite étendre la délégation à la "
        "maintenance.",
        "Deux propositions portées en comité de direction, dont une adoptée. La prise de "
        "parole reste à installer sur les sujets budgétaires.",
        "Elle identifie mieux ce qui se joue avant de décider ; les réunions de crise non "
        "planifiées restent fréquentes en période de pointe.",
    ),
    "general_comment": "Engagement régulier : les séances ont eu lieu comme prévu et les "
    "essais entre deux séances sont menés. La dynamique est bonne ; la deuxième moitié de "
    "l'accompagnement portera sur la posture en comité.",
}
RETURN_COMMENT = (
    "Je préfère que le compte rendu ne mentionne pas la tension avec le directeur "
    "financier : parlons plutôt de la préparation des comités."
)
SYNTHESIS = {
    "learnings": "Déléguer sans se désengager : Camille distingue ce qui relève de son "
    "arbitrage et ce qui relève de son équipe, et prépare les comités comme des décisions "
    "collectives.",
    "metacognitive_skills": "Elle prend du recul avant d'arbitrer : elle écrit trois lectures "
    "possibles d'une situation tendue et nomme ce qui, dans une décision, relève d'elle.",
    "objectives_assessment": "Délégation : dépassé, trois décisions par mois prises sans elle. "
    "Légitimité en comité : atteint, deux propositions adoptées. Recul en tension : atteint, "
    "moins de réunions de crise.",
    "recommendations": "Poursuivre le binôme avec son adjoint ; un point annuel avec la "
    "commanditaire sur le périmètre ; s'appuyer sur un pair du comité pour les sujets "
    "budgétaires.",
}

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Rhythm:
    """
    The weekday and time of all the meetings of one engagement. Each
    engagement of a coach has its own, so the coach is never double-booked.
    """

    weekday: int
    at: time


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _workday_before(day):
    """The working day before ``day``."""
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _workday(day):
    """``day``, or the Monday after it if it falls on a weekend."""
    if day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    return day


def _workdays_after(day, count):
    for _ in range(count):
        day = _workday(day + timedelta(days=1))
    return day


@contextmanager
def _nobody_emailed():
    """
    The story's e-mails go to an in-memory outbox, emptied at the end. Its
    tasks run in this process, quietly, once the story is committed: a worker
    would e-mail the demo's people.
    """
    eager = celery_app.conf.task_always_eager
    task_log = logging.getLogger("celery.app.trace")
    log_level = task_log.level
    celery_app.conf.task_always_eager = True
    task_log.setLevel(logging.WARNING)
    locmem = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox = getattr(mail, "outbox", [])
    try:
        with override_settings(MAILERS=locmem):
            yield
    finally:
        celery_app.conf.task_always_eager = eager
        task_log.setLevel(log_level)
        mail.outbox.clear()


class Command(BaseCommand):
    help = "Load the demo practice (demo database only; idempotent)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs on the demo database (DJANGO_DEBUG=1), never in production."
            )
        if Organization.objects.filter(name__in=ORGANIZATION_NAMES).exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
        else:
            # Conventions are sealed: development signing material if missing.
            call_command("create_signing_certificate", stdout=self.stdout)
            with _nobody_emailed(), transaction.atomic():
                self._seed()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(f"\nDemo logins (password for all: {PASSWORD}):")
        for email, who in LOGINS:
            self.stdout.write(f"  {email:<24} {who}")

    # -- the practice ------------------------------------------------------

    def _seed(self):
        self.today = clock.today()
        self.rhythms = {}  # engagement id -> Rhythm
        self._practice()
        users = self.users
        camille = {
            "coach": self.coach,
            "organization": self.helix,
            "coachee": users["coachee"],
            "sponsor": users["sponsor"],
            "coachee_job_title": "Directrice des opérations",
            "sponsor_job_title": "Directrice générale adjointe",
        }
        # The three main personas are the parties of one engagement in each state.
        self._make_draft(
            self._engagement(
                **camille,
                title="Préparer la direction d'usine",
                starts_on=self._days_from_today(30),
                rhythm=Rhythm(FRIDAY, time(14)),
            )
        )
        self._make_kickoff(
            self._engagement(
                **camille,
                title="Prise de poste de directrice des opérations",
                starts_on=self._days_from_today(24),
                rhythm=Rhythm(THURSDAY, time(14)),
            )
        )
        self._make_contracting(
            self._engagement(
                **camille,
                title="Piloter la transformation du site de Lyon",
                starts_on=self._days_from_today(10),
                rhythm=Rhythm(FRIDAY, time(9, 30)),
            )
        )
        self._make_active(
            self._engagement(
                **camille,
                title="Devenir manager de managers",
                starts_on=self._months_ago(5),
                rhythm=Rhythm(TUESDAY, time(9, 30)),
            ),
            cancelled_by_coachee=3,
            # A report released with both parties' scores, and the next one
            # awaiting Camille's approval.
            reports=("released", "awaiting"),
        )
        self._make_completed(
            self._engagement(
                **camille,
                title="Première fonction de direction",
                starts_on=self._months_ago(14),
                rhythm=Rhythm(MONDAY, time(14)),
            )
        )
        self._make_closing(
            self._engagement(
                **camille,
                title="Affirmer son leadership en comité de direction",
                starts_on=self._months_ago(11),
                rhythm=Rhythm(TUESDAY, time(14)),
            )
        )
        self._make_withdrawn(
            self._engagement(
                **camille,
                title="Conduite du changement — site de Grenoble",
                starts_on=self._months_ago(4),
                rhythm=Rhythm(WEDNESDAY, time(9, 30)),
            )
        )
        self._make_cancelled(
            self._engagement(
                **camille,
                title="Reprise d'équipe après fusion",
                starts_on=self._months_ago(2),
                rhythm=Rhythm(WEDNESDAY, time(14)),
            )
        )

        # Sophie sponsors Camille above, and is herself coached by Marc.
        self._make_active(
            self._engagement(
                coach=self.coach2,
                organization=self.helix,
                coachee=users["sponsor"],
                sponsor=users["ceo"],
                title="Entrée au comité exécutif",
                coachee_job_title="Directrice générale adjointe",
                sponsor_job_title="Président-directeur général",
                starts_on=self._months_ago(3),
                rhythm=Rhythm(TUESDAY, time(9, 30)),
            )
        )
        self._make_kickoff(
            self._engagement(
                coach=self.coach2,
                organization=self.nordwind,
                coachee=users["coachee2"],
                sponsor=users["sponsor2"],
                title="Premier poste de manager de managers",
                coachee_job_title="Responsable d'entrepôt régional",
                sponsor_job_title="Directrice des opérations",
                starts_on=self._days_from_today(25),
                rhythm=Rhythm(THURSDAY, time(14)),
            )
        )
        self._make_active(
            self._engagement(
                coach=self.coach,
                organization=self.nordwind,
                coachee=users["coachee3"],
                sponsor=users["sponsor2"],
                title="Prise de poste de directrice supply chain",
                coachee_job_title="Directrice supply chain",
                sponsor_job_title="Directrice des opérations",
                starts_on=self._months_ago(6),
                rhythm=Rhythm(THURSDAY, time(9, 30)),
            ),
            # Léa returned the mid-point report to Claire with a comment.
            reports=("returned",),
        )

    def _practice(self):
        """The people, the two coaches, the client organizations and their HR."""
        self.users = {}
        for key, (email, first, last) in PEOPLE.items():
            user = User(email=email, first_name=first, last_name=last)
            user.set_password(PASSWORD)
            if key == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            self.users[key] = user
        self.coach = Coach.objects.create(
            user=self.users["coach"],
            credentials="Coach certifiée ICF PCC",
            bio="Vingt ans de direction industrielle, coach de dirigeants depuis 2014.",
        )
        self.coach2 = Coach.objects.create(
            user=self.users["coach2"],
            credentials="EMCC Senior Practitioner",
            bio="Ancien DRH, accompagne les prises de poste en comité exécutif.",
        )
        self.helix = Organization.objects.create(
            name=ORGANIZATION_NAMES[0],
            address="12 quai de la Loire, 69002 Lyon",
            registration_number="812 345 678 00021",
        )
        self.nordwind = Organization.objects.create(
            name=ORGANIZATION_NAMES[1],
            address="4 rue du Port, 67000 Strasbourg",
            registration_number="533 210 987 00014",
        )
        for key, organization in (("hr", self.helix), ("hr2", self.nordwind)):
            hr = self.users[key]
            hr_grant(
                organization=organization,
                email=hr.email,
                first_name=hr.first_name,
                last_name=hr.last_name,
                granted_by=self.users["admin"],
            )

    def _months_ago(self, months):
        return self.today - timedelta(days=30 * months)

    def _days_from_today(self, days):
        return self.today + timedelta(days=days)

    # -- one method per state ----------------------------------------------
    #
    # Every engagement follows the same story, anchored on its start date S:
    # opened five weeks before S, kickoff meeting three weeks before S,
    # convention sent two working days after it and signed within two more,
    # development sessions every four weeks from S. Each state is that story
    # stopped at its point; an engagement whose S is ahead stops earlier.

    def _make_draft(self, engagement):
        """The coach has opened the engagement and is preparing it."""
        return engagement

    def _make_kickoff(self, engagement):
        """The kickoff meeting is planned; the objectives are being agreed."""
        self._objectives_drafted(engagement, self._kickoff_booked(engagement))
        return engagement

    def _make_contracting(self, engagement):
        """The convention is out: left for the three personas to sign from their portals."""
        self._convention_sent(engagement)
        return engagement

    def _make_active(self, engagement, *, cancelled_by_coachee=None, reports=()):
        """
        Sessions held up to today, with their notes, and the rest planned.
        ``cancelled_by_coachee``: the index of a session the coachee cancelled
        in good time; the coach planned a replacement a week later.
        ``reports``: the sponsor reports written so far, in order, each
        "released" (with both parties' scores), "awaiting" (the coachee's
        approval) or "returned" (to the coach, with her comment).
        """
        self._activate(engagement)
        sessions = self._development_sessions(engagement)
        if cancelled_by_coachee is not None:
            self._attended(sessions[:cancelled_by_coachee])
            replacement = self._cancelled_and_replaced(sessions[cancelled_by_coachee])
            sessions = [replacement, *sessions[cancelled_by_coachee + 1 :]]
        self._attended(sessions)
        held = [s for s in sessions if s.status == CoachingSession.Status.HELD]
        # Each report covers a share of the sessions held so far.
        for index, stage in enumerate(reports, start=1):
            last = held[len(held) * index // len(reports) - 1]
            self._report(engagement, timezone.localdate(last.starts_at), stage)
        return engagement

    def _make_closing(self, engagement):
        """
        The development sessions are done and the closing meeting is planned;
        the coach has written the synthesis, which awaits the coachee's
        validation, and the sponsor has given his final scores.
        """
        self._activate(engagement)
        sessions = self._development_sessions(engagement)
        self._attended(sessions)
        self._report(engagement, timezone.localdate(sessions[5].starts_at), "released")
        last = timezone.localdate(sessions[-1].starts_at)
        started_on = _workdays_after(last, 5)
        self._closing_started(engagement, started_on, self._days_from_today(8))
        written_on = _workdays_after(started_on, 2)
        self._synthesis_written(engagement, written_on)
        self._final_scores(engagement, "sponsor", _workdays_after(written_on, 1))
        return engagement

    def _make_completed(self, engagement):
        """
        The whole story: sessions, the mid-point report, the closing meeting,
        the synthesis validated by the coachee — who kept "metacognitive
        skills" between herself and her coach, so the sponsor's version of the
        final synthesis differs from hers — and the final synthesis issued.
        """
        self._activate(engagement)
        sessions = self._development_sessions(engagement)
        self._attended(sessions)
        self._report(engagement, timezone.localdate(sessions[5].starts_at), "released")
        last = timezone.localdate(sessions[-1].starts_at)
        started_on = _workdays_after(last, 3)
        meeting = self._closing_started(engagement, started_on, _workdays_after(started_on, 7))
        coach, coachee = engagement.coach.user, engagement.coachee
        with clock.at(meeting.ends_at + timedelta(minutes=10)):
            session_attendance_record(
                session=meeting, coach=coach, status=CoachingSession.Status.HELD
            )
        meeting_day = timezone.localdate(meeting.starts_at)
        written_on = _workdays_after(meeting_day, 2)
        self._synthesis_written(engagement, written_on)
        self._final_scores(engagement, "sponsor", _workdays_after(written_on, 1))
        validated_on = _workdays_after(written_on, 3)
        self._final_scores(engagement, "coachee", validated_on, hour=8)
        with clock.at(_at(validated_on, 8, 20)):
            synthesis_validate(
                engagement=engagement,
                coachee=coachee,
                shared_parts=["learnings", "objectives_assessment", "recommendations"],
            )
        with clock.at(_at(_workdays_after(validated_on, 1), 9, 5)):
            review = synthesis_issue(engagement=engagement, coach=coach)
        # The task runs once the seed commits: generate now, as it would have.
        with clock.at(_at(_workdays_after(validated_on, 1), 9, 6)):
            synthesis_generate(review_id=review.pk)
        return engagement

    def _make_withdrawn(self, engagement):
        """The coachee withdrew after three sessions; the sessions to come were cancelled."""
        self._activate(engagement)
        sessions = self._development_sessions(engagement)
        self._attended(sessions[:3])
        third = timezone.localdate(sessions[2].starts_at)
        with clock.at(_at(_workdays_after(third, 6), 12, 40)):
            engagement_withdraw(
                engagement=engagement, coachee=engagement.coachee, closing_session_wanted=False
            )
        return engagement

    def _make_cancelled(self, engagement):
        """
        Before any development session: the coach and the coachee had signed
        when the sponsor cancelled (the version out for signature is voided).
        """
        convention = self._convention_sent(engagement)
        sent_on = timezone.localdate(convention.sent_at)
        self._sign(convention, engagement.coach.user, convention.sent_at + timedelta(minutes=25))
        self._sign(convention, engagement.coachee, _at(_workdays_after(sent_on, 1), 8, 50))
        with clock.at(_at(_workdays_after(sent_on, 4), 16, 20)):
            engagement_cancel(
                engagement=engagement, actor=engagement.sponsor, reason=CANCELLATION_REASON
            )
        return engagement

    # -- steps of the story ------------------------------------------------

    def _engagement(
        self,
        *,
        starts_on,
        rhythm,
        coachee,
        coachee_job_title,
        sponsor,
        sponsor_job_title,
        **terms,
    ):
        """The coach opens the engagement in draft, five weeks before it starts."""
        opened_on = _workday(starts_on - timedelta(days=35))
        with clock.at(_at(opened_on, 9, 15)):
            engagement = engagement_open(
                coachee=self._person(coachee, coachee_job_title),
                sponsor=self._person(sponsor, sponsor_job_title),
                start_date=starts_on,
                end_date=starts_on + timedelta(days=365),
                fee_amount=Decimal("14400.00"),
                sessions_contracted=12,
                session_minutes=120,
                format=Format.VIDEO,
                **terms,
            )
        self.rhythms[engagement.pk] = rhythm
        return engagement

    @staticmethod
    def _person(user, job_title):
        return Person(
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            job_title=job_title,
        )

    def _meeting(self, engagement, on_or_after):
        """The engagement's next meeting time on or after the day ``on_or_after``."""
        rhythm = self.rhythms[engagement.pk]
        day = on_or_after + timedelta(days=(rhythm.weekday - on_or_after.weekday()) % 7)
        return datetime.combine(day, rhythm.at, tzinfo=PARIS)

    def _kickoff_booked(self, engagement):
        """The coach books the tripartite kickoff at the client's office (draft -> kickoff)."""
        start = engagement.start_date
        booked_on = _workday(start - timedelta(days=30))
        with clock.at(_at(booked_on, 17, 40)):
            kickoff_schedule(
                engagement=engagement,
                coach=engagement.coach.user,
                starts_at=self._meeting(engagement, start - timedelta(days=23)),
                duration_minutes=engagement.session_minutes,
                format=Format.IN_PERSON,
                location=engagement.organization.address,
            )
        return booked_on

    def _objectives_drafted(self, engagement, booked_on):
        """
        Before the meeting, the coach proposes two objectives; the coachee
        approves the first and writes the third herself. The second still
        waits for her approval.
        """
        (first, first_indicators), (second, second_indicators), (own, own_indicators) = OBJECTIVES
        coach, coachee = engagement.coach.user, engagement.coachee
        with clock.at(_at(_workdays_after(booked_on, 1), 18, 10)):
            proposed = objective_save(
                engagement=engagement,
                author=coach,
                title=first,
                success_indicators=first_indicators,
            )
            objective_save(
                engagement=engagement,
                author=coach,
                title=second,
                success_indicators=second_indicators,
            )
        with clock.at(_at(_workdays_after(booked_on, 2), 12, 50)):
            objective_approve(objective=proposed, coachee=coachee)
            objective_save(
                engagement=engagement,
                author=coachee,
                title=own,
                success_indicators=own_indicators,
            )

    def _kickoff_held(self, engagement):
        """
        The kickoff meeting took place: the coach records its outcome as it
        ends, and the coachee approves the remaining wording the next morning.
        Returns the day of the meeting.
        """
        self._objectives_drafted(engagement, self._kickoff_booked(engagement))
        meeting = engagement.sessions.get(kind=CoachingSession.Kind.KICKOFF)
        with clock.at(meeting.ends_at + timedelta(minutes=20)):
            kickoff_record(engagement=engagement, coach=engagement.coach.user, **KICKOFF_OUTCOME)
        meeting_day = timezone.localdate(meeting.starts_at)
        with clock.at(_at(_workdays_after(meeting_day, 1), 8, 40)):
            for objective in engagement.objectives.filter(approved_by_coachee_at=None):
                objective_approve(objective=objective, coachee=engagement.coachee)
        # The objectives agreed, each party gives a baseline from their own page.
        self._scores_given(
            engagement, "baseline", "coachee", _at(_workdays_after(meeting_day, 1), 8, 45)
        )
        self._scores_given(
            engagement, "baseline", "sponsor", _at(_workdays_after(meeting_day, 1), 19, 10)
        )
        return meeting_day

    def _convention_sent(self, engagement):
        """Two working days after the kickoff, the coach sends the convention (-> contracting)."""
        meeting_day = self._kickoff_held(engagement)
        with clock.at(_at(_workdays_after(meeting_day, 2), 10)):
            return convention_send(engagement=engagement, coach=engagement.coach.user)

    def _activate(self, engagement):
        """
        The three parties sign within two working days; the final document is
        sealed a minute after the third signature, and the engagement starts.
        """
        convention = self._convention_sent(engagement)
        sent_on = timezone.localdate(convention.sent_at)
        self._sign(convention, engagement.coach.user, convention.sent_at + timedelta(minutes=25))
        self._sign(convention, engagement.sponsor, _at(_workdays_after(sent_on, 1), 18, 5))
        last = self._sign(convention, engagement.coachee, _at(_workdays_after(sent_on, 2), 8, 50))
        # The sealing task runs once the transaction commits, at the end of the
        # seed: seal now, as the task would have, so the engagement starts then.
        with clock.at(last.signed_at + timedelta(minutes=1)):
            convention_seal(convention_id=convention.pk)
        convention.refresh_from_db()
        return convention

    def _sign(self, convention, signer, when):
        """
        A party opens the document, asks for the one-time code, reads it in
        the e-mail, and signs.
        """
        role = sorted(convention.engagement.roles_of(signer))[0]
        ip_address, user_agent = SIGNING_BROWSERS[role]
        with clock.at(when - timedelta(minutes=4)):
            document_access_log(
                user=signer, convention=convention, signed=False, ip_address=ip_address
            )
        with clock.at(when):
            signature_code_send(convention=convention, user=signer)
        with clock.at(when + timedelta(minutes=1, seconds=40)):
            return convention_sign(
                convention=convention,
                signer=signer,
                code=self._code_sent_to(signer),
                typed_name=signer.get_full_name(),
                consent=True,
                ip_address=ip_address,
                user_agent=user_agent,
            )

    @staticmethod
    def _code_sent_to(user):
        message = next(m for m in reversed(mail.outbox) if user.email in m.to)
        return re.search(r"\b(\d{6})\b", message.body).group(1)

    def _development_sessions(self, engagement):
        """
        The working day after the signatures, the coach plans the twelve
        sessions of the convention, every four weeks from its start.
        """
        rhythm = self.rhythms[engagement.pk]
        signed_on = timezone.localdate(
            engagement.conventions.get(status=Convention.Status.SIGNED).signed_at
        )
        with clock.at(_at(_workdays_after(signed_on, 1), 11, 30)):
            return series_create(
                engagement=engagement,
                coach=engagement.coach.user,
                starts=series_plan(
                    first_day=engagement.start_date,
                    weekday=rhythm.weekday,
                    at=rhythm.at,
                    count=engagement.sessions_contracted,
                    every_weeks=4,
                ),
                duration_minutes=engagement.session_minutes,
                format=engagement.format,
                video_url=self._video_url(engagement),
            )

    @staticmethod
    def _video_url(engagement):
        return f"https://visio.example.com/trio-{engagement.pk}"

    def _attended(self, sessions):
        """
        The sessions of the past took place: the coach records attendance and
        notes as each ends, the coachee writes her action plan that evening.
        """
        for session in sessions:
            day = timezone.localdate(session.starts_at)
            evening = _at(day, 18, 45)
            if evening >= clock.now():
                break
            engagement, coach = session.engagement, session.engagement.coach.user
            held = engagement.sessions.development().filter(status=CoachingSession.Status.HELD)
            private_note, summary, action_plan = SESSION_NOTES[held.count() % len(SESSION_NOTES)]
            with clock.at(session.ends_at + timedelta(minutes=10)):
                session_attendance_record(
                    session=session, coach=coach, status=CoachingSession.Status.HELD
                )
                session_notes_save(
                    session=session, user=coach, private_note=private_note, summary=summary
                )
            with clock.at(evening):
                session_notes_save(
                    session=session, user=engagement.coachee, action_plan=action_plan
                )

    def _cancelled_and_replaced(self, session):
        """
        The coachee cancels a session five days ahead (in good time: it is
        not used); the next morning the coach plans it a week later.
        """
        engagement = session.engagement
        day = timezone.localdate(session.starts_at)
        cancelled_at = _at(day - timedelta(days=5), 12, 35)
        with clock.at(cancelled_at):
            session_cancel(session=session, user=engagement.coachee)
        with clock.at(_at(_workday(cancelled_at.date() + timedelta(days=1)), 9, 10)):
            return session_schedule(
                engagement=engagement,
                coach=engagement.coach.user,
                kind=CoachingSession.Kind.DEVELOPMENT,
                starts_at=self._meeting(engagement, day + timedelta(days=1)),
                duration_minutes=engagement.session_minutes,
                format=engagement.format,
                video_url=self._video_url(engagement),
            )

    def _closing_started(self, engagement, on, meeting_on):
        """
        The coach starts the closing review (its synthesis opens as an empty
        draft) and books the tripartite closing meeting at the client's
        office, on its weekday on or after ``meeting_on``. Returns the meeting.
        """
        coach = engagement.coach.user
        with clock.at(_at(on, 16, 30)):
            closing_start(engagement=engagement, coach=coach, cancel_planned=False)
            return session_schedule(
                engagement=engagement,
                coach=coach,
                kind=CoachingSession.Kind.CLOSING,
                starts_at=self._meeting(engagement, meeting_on),
                duration_minutes=engagement.session_minutes,
                format=Format.IN_PERSON,
                location=engagement.organization.address,
            )

    def _scores_given(self, engagement, milestone, rater, when, report=None):
        """The coachee or the sponsor gives their scores at a milestone, from their page."""
        objectives = list(engagement.objectives.order_by("position"))
        scores = dict(zip((o.pk for o in objectives), SCORES[milestone][rater], strict=False))
        person = engagement.party_for(rater)
        with clock.at(when):
            if milestone == "baseline":
                baseline_scores_give(engagement=engagement, user=person, scores=scores)
            elif milestone == "closing":
                closing_scores_give(engagement=engagement, user=person, scores=scores)
            elif rater == "coachee":
                report_approve(report=report, coachee=person, scores=scores)
            else:
                report_scores_give(report=report, sponsor=person, scores=scores)

    def _report(self, engagement, period_end, stage):
        """
        Two working days after ``period_end`` the coach writes the report on
        the period and submits it the next morning; then, per ``stage``, the
        coachee returns it, or approves it with her scores the day after
        (the sponsor adds his two days later), or it awaits her.
        """
        coach, coachee = engagement.coach.user, engagement.coachee
        written_on = self._before_today(_workdays_after(period_end, 2))
        with clock.at(_at(written_on, 17, 10)):
            period_start, _today = report_suggested_period(engagement)
            report = report_start(
                engagement=engagement,
                coach=coach,
                period_start=period_start,
                period_end=period_end,
            )
            progress = dict(
                zip(
                    (
                        e.objective_id
                        for e in report.objective_progress.order_by("objective__position")
                    ),
                    REPORT["progress"],
                    strict=False,
                )
            )
            report_save(
                report=report,
                coach=coach,
                progress=progress,
                general_comment=REPORT["general_comment"],
            )
        submitted_at = self._before_now(_at(_workdays_after(written_on, 1), 8, 30))
        with clock.at(submitted_at):
            report_submit(report=report, coach=coach)
        answered_at = self._before_now(submitted_at + timedelta(days=1, hours=4))
        if stage == "returned":
            with clock.at(answered_at):
                report_return(report=report, coachee=coachee, comment=RETURN_COMMENT)
        elif stage == "released":
            self._scores_given(engagement, "report", "coachee", answered_at, report)
            observed_at = self._before_now(answered_at + timedelta(days=2, hours=6))
            self._scores_given(engagement, "report", "sponsor", observed_at, report)
        return report

    def _synthesis_written(self, engagement, on):
        """The coach writes the synthesis and gives it to the coachee the same evening."""
        coach = engagement.coach.user
        with clock.at(_at(on, 17, 30)):
            synthesis_save(engagement=engagement, coach=coach, **SYNTHESIS)
            synthesis_submit(engagement=engagement, coach=coach)

    def _final_scores(self, engagement, rater, on, hour=18):
        self._scores_given(engagement, "closing", rater, _at(on, hour, 0))

    def _before_today(self, day):
        """A day of the story that would fall today or later happened yesterday."""
        return min(day, _workday_before(self.today))

    @staticmethod
    def _before_now(moment):
        return min(moment, timezone.now() - timedelta(hours=1))
