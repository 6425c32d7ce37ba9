"""
Load the demo practice: two coaches, two client organizations with their HR,
and engagements in every state, so every screen has something real to show.

Only for the demo database (DJANGO_DEBUG=1). Running it again changes nothing.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from engagements import workflow
from engagements.models import (
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
    SharedSummary,
    Signature,
    SponsorReport,
    StatusChange,
    User,
)
from engagements.services.convention import (
    auth_method_text,
    consent_text,
    convention_seal,
    convention_send,
)
from engagements.services.engagements import engagement_create

PASSWORD = "demo12345"
PARIS = ZoneInfo("Europe/Paris")
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

LOGINS = [
    ("coach@demo.example", "coach (Claire Martin)"),
    ("coach2@demo.example", "second coach (Marc Lefèvre)"),
    ("coachee@demo.example", "coachee (Camille Durand)"),
    ("sponsor@demo.example", "sponsor (Sophie Bernard), also coached by Marc"),
    ("hr@demo.example", "HR of Helix Énergies (Hélène Roux)"),
    ("hr2@demo.example", "HR of Nordwind Logistique (Thomas Weber)"),
    ("admin@demo.example", "practice owner, Django admin at /admin/"),
]


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


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
            # The demo's history is made up: nobody is e-mailed about it.
            quiet = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
            with override_settings(MAILERS=quiet), transaction.atomic():
                self._seed()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    def _print_logins(self):
        self.stdout.write(f"\nDemo logins (password for all: {PASSWORD}):")
        for email, who in LOGINS:
            self.stdout.write(f"  {email:<24} {who}")

    # -- building blocks ---------------------------------------------------

    def _seed(self):
        self.today = timezone.localdate()
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
        HRMembership.objects.create(user=self.users["hr"], organization=self.helix)
        HRMembership.objects.create(user=self.users["hr2"], organization=self.nordwind)

        # The three main personas are the parties of one engagement per state.
        for status in Engagement.Status.values:
            getattr(self, f"_make_{status}")(self._main_engagement(status))

        # Sophie sponsors Camille above, and is herself coached by Marc.
        sophie = self._engagement(
            coach=self.coach2,
            organization=self.helix,
            coachee=self.users["sponsor"],
            sponsor=self.users["ceo"],
            title="Entrée au comité exécutif",
            coachee_job_title="Directrice générale adjointe",
            sponsor_job_title="Président-directeur général",
            months_ago=3,
        )
        self._make_active(sophie)
        julien = self._engagement(
            coach=self.coach2,
            organization=self.nordwind,
            coachee=self.users["coachee2"],
            sponsor=self.users["sponsor2"],
            title="Premier poste de manager de managers",
            coachee_job_title="Responsable d'entrepôt régional",
            sponsor_job_title="Directrice des opérations",
            months_ago=1,
        )
        self._make_kickoff(julien)
        lea = self._engagement(
            coach=self.coach,
            organization=self.nordwind,
            coachee=self.users["coachee3"],
            sponsor=self.users["sponsor2"],
            title="Prise de poste de directrice supply chain",
            coachee_job_title="Directrice supply chain",
            sponsor_job_title="Directrice des opérations",
            months_ago=6,
        )
        self._make_active(lea)

    def _main_engagement(self, status):
        titles = {
            "draft": ("Préparer la direction d'usine", 0),
            "kickoff": ("Prise de poste de directrice des opérations", 1),
            "contracting": ("Piloter la transformation du site de Lyon", 1),
            "active": ("Devenir manager de managers", 5),
            "closing": ("Affirmer son leadership en comité de direction", 11),
            "completed": ("Première fonction de direction", 14),
            "withdrawn": ("Conduite du changement — site de Grenoble", 4),
            "cancelled": ("Reprise d'équipe après fusion", 2),
        }
        title, months_ago = titles[status]
        return self._engagement(
            coach=self.coach,
            organization=self.helix,
            coachee=self.users["coachee"],
            sponsor=self.users["sponsor"],
            title=title,
            coachee_job_title="Directrice des opérations",
            sponsor_job_title="Directrice générale adjointe",
            months_ago=months_ago,
        )

    def _engagement(self, *, months_ago, **parties):
        start = self.today - timedelta(days=30 * months_ago)
        return engagement_create(
            start_date=start,
            end_date=start + timedelta(days=365),
            fee_amount=Decimal("14400.00"),
            sessions_contracted=12,
            session_minutes=120,
            format=Format.VIDEO,
            **parties,
        )

    def _move(self, engagement, name, actor, when, reason=""):
        engagement = workflow.transition(engagement, name, actor=actor, reason=reason)
        self._backdate_last_move(engagement, when)
        return engagement

    def _backdate_last_move(self, engagement, when):
        """Demo history reads like a real one: the last move happened at ``when``."""
        last = engagement.status_changes.latest("id")
        StatusChange.objects.filter(pk=last.pk).update(created_at=when)
        Engagement.objects.filter(pk=engagement.pk).update(
            status_changed_at=when,
            ended_at=when if last.to_status in Engagement.Status.terminal() else None,
        )

    def _session(self, engagement, kind, starts_at, status, **extra):
        return CoachingSession.objects.create(
            engagement=engagement,
            kind=kind,
            starts_at=starts_at,
            duration_minutes=engagement.session_minutes,
            format=engagement.format,
            video_url="https://visio.example.com/trio-" + str(engagement.pk)
            if engagement.format == Format.VIDEO
            else "",
            status=status,
            **extra,
        )

    def _objectives(self, engagement, approved_at=None):
        objectives = []
        for position, (title, indicators) in enumerate(OBJECTIVES, start=1):
            objectives.append(
                Objective.objects.create(
                    engagement=engagement,
                    position=position,
                    title=title,
                    success_indicators=indicators,
                    proposed_by=engagement.coachee,
                    approved_by_coachee_at=approved_at,
                )
            )
        return objectives

    def _scores(self, objectives, milestone, when, values, report=None):
        for objective, (self_score, observed) in zip(objectives, values, strict=True):
            for rater, score, by in (
                (
                    ObjectiveScore.Rater.COACHEE,
                    self_score,
                    objective.engagement.coachee,
                ),
                (ObjectiveScore.Rater.SPONSOR, observed, objective.engagement.sponsor),
            ):
                ObjectiveScore.objects.create(
                    objective=objective,
                    milestone=milestone,
                    report=report,
                    rater=rater,
                    score=score,
                    scored_by=by,
                    scored_at=when,
                )

    def _convention(self, engagement, sent_at):
        """The real convention (PDF, SHA-256), sent through the service."""
        convention = convention_send(
            engagement=engagement, coach=engagement.coach.user, now=sent_at
        )
        self._backdate_last_move(engagement, sent_at)
        return convention

    def _sign(self, convention, user, role, when):
        """A demo signature with the evidence a real one records."""
        Signature.objects.create(
            convention=convention,
            signer=user,
            role=role,
            signed_at=when,
            typed_name=user.get_full_name(),
            ip_address="198.51.100.23",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) demo data",
            auth_method=auth_method_text(
                language="fr",
                email=user.email,
                sent_at=when - timedelta(minutes=2),
                verified_at=when,
            ),
            authenticated_at=when,
            consent_text=consent_text(convention),
            document_sha256=convention.document_sha256,
        )

    def _sign_all(self, engagement, convention, when):
        """The three signatures, then the sealed final PDF; the engagement starts."""
        for offset, role in enumerate(("coach", "sponsor", "coachee")):
            self._sign(
                convention,
                engagement.party_for(role),
                role,
                when + timedelta(hours=offset * 5),
            )
        convention_seal(convention_id=convention.pk)
        Convention.objects.filter(pk=convention.pk).update(signed_at=when + timedelta(hours=10))
        self._backdate_last_move(engagement, when + timedelta(hours=10))

    def _development_sessions(self, engagement, first_day, count, held=None):
        """``count`` sessions every four weeks; past ones held unless ``held`` says."""
        sessions = []
        for index in range(count):
            day = first_day + timedelta(weeks=4 * index)
            is_held = day < self.today if held is None else index < held
            status = CoachingSession.Status.HELD if is_held else CoachingSession.Status.PLANNED
            session = self._session(
                engagement, CoachingSession.Kind.DEVELOPMENT, _at(day, 9, 30), status
            )
            if is_held:
                PrivateNote.objects.create(
                    session=session,
                    body="Hypothèse : la difficulté à déléguer tient à la peur "
                    "de perdre la vue d'ensemble. À explorer.",
                )
                SharedSummary.objects.create(
                    session=session,
                    summary="Analyse d'une situation de délégation récente : "
                    "ce qui a été décidé, par qui, et ce que j'ai ressenti.",
                    action_plan="Confier l'arbitrage du planning à Paul ; "
                    "noter mes réactions pendant deux semaines.",
                    updated_by=engagement.coachee,
                )
            sessions.append(session)
        return sessions

    # -- one method per state ---------------------------------------------

    def _make_draft(self, engagement):
        return engagement

    def _make_kickoff(self, engagement):
        coach = engagement.coach.user
        start = engagement.start_date
        self._move(engagement, "schedule_kickoff", coach, _at(start, 10))
        self._session(
            engagement,
            CoachingSession.Kind.KICKOFF,
            _at(max(start, self.today) + timedelta(days=6), 14),
            CoachingSession.Status.PLANNED,
        )
        self._objectives(engagement)
        return engagement

    def _kickoff_held(self, engagement):
        coach = engagement.coach.user
        start = engagement.start_date
        self._move(engagement, "schedule_kickoff", coach, _at(start - timedelta(days=20), 10))
        self._session(
            engagement,
            CoachingSession.Kind.KICKOFF,
            _at(start - timedelta(days=10), 14),
            CoachingSession.Status.HELD,
        )
        objectives = self._objectives(engagement, approved_at=_at(start - timedelta(days=8), 18))
        self._scores(
            objectives,
            ObjectiveScore.Milestone.BASELINE,
            _at(start - timedelta(days=10), 16),
            [(-2, -1), (-1, -2), (-1, -1)],
        )
        Kickoff.objects.create(
            engagement=engagement,
            coachee_expectations="Prendre la mesure de mon nouveau périmètre sans tout "
            "porter seule ; être reconnue comme directrice par mes pairs.",
            sponsor_expectations="Qu'elle délègue davantage et prenne sa place au comité "
            "de direction d'ici la fin de l'année.",
            coach_expectations="Un engagement régulier dans les séances et des essais "
            "concrets entre deux séances.",
            reporting_scope="l'assiduité, les heures consommées, la progression sur "
            "chaque objectif avec les scores d'atteinte, et un commentaire général.",
            recorded_by=coach,
            recorded_at=_at(start - timedelta(days=10), 17),
        )
        sent_at = _at(start - timedelta(days=7), 9)
        return objectives, self._convention(engagement, sent_at)

    def _make_contracting(self, engagement):
        # Left for the three demo personas to sign from their portals.
        self._kickoff_held(engagement)
        return engagement

    def _activate(self, engagement):
        objectives, convention = self._kickoff_held(engagement)
        self._sign_all(engagement, convention, convention.sent_at + timedelta(days=1))
        return objectives

    def _report(self, engagement, objectives, period_start, period_end, status, values):
        sessions_held = engagement.sessions.filter(
            kind=CoachingSession.Kind.DEVELOPMENT,
            status=CoachingSession.Status.HELD,
            starts_at__date__lte=period_end,
        ).count()
        released = status == SponsorReport.Status.RELEASED
        submitted_at = _at(period_end, 17)
        report = SponsorReport.objects.create(
            engagement=engagement,
            status=status,
            period_start=period_start,
            period_end=period_end,
            sessions_held=sessions_held,
            hours_used=Decimal(sessions_held * engagement.session_minutes) / 60,
            progress="Camille délègue désormais l'arbitrage du planning. "
            "La posture en comité progresse ; la gestion des tensions reste "
            "le chantier principal.",
            general_comment="Engagement régulier, séances tenues comme prévu.",
            submitted_at=submitted_at,
            approved_at=submitted_at + timedelta(days=2) if released else None,
            released_at=submitted_at + timedelta(days=2) if released else None,
        )
        if released:
            self._scores(
                objectives,
                ObjectiveScore.Milestone.REPORT,
                submitted_at,
                values,
                report=report,
            )
        return report

    def _make_active(self, engagement):
        objectives = self._activate(engagement)
        start = engagement.start_date
        past = max((self.today - start).days - 7, 0) // 28 + 1
        self._development_sessions(
            engagement, start + timedelta(days=7), min(past + 3, engagement.sessions_contracted)
        )
        # A released report each quarter, and the current one awaiting the
        # coachee's approval.
        period_start = start
        while period_start + timedelta(days=90) < self.today - timedelta(days=30):
            period_end = period_start + timedelta(days=90)
            self._report(
                engagement,
                objectives,
                period_start,
                period_end,
                SponsorReport.Status.RELEASED,
                [(0, -1), (-1, -1), (-1, 0)],
            )
            period_start = period_end + timedelta(days=1)
        if past >= 2:
            self._report(
                engagement,
                objectives,
                period_start,
                self.today - timedelta(days=3),
                SponsorReport.Status.AWAITING_APPROVAL,
                [],
            )
        return engagement

    def _make_closing(self, engagement):
        objectives = self._activate(engagement)
        start = engagement.start_date
        self._development_sessions(engagement, start + timedelta(days=7), 11, 11)
        self._report(
            engagement,
            objectives,
            start,
            start + timedelta(days=150),
            SponsorReport.Status.RELEASED,
            [(0, 0), (0, -1), (-1, 0)],
        )
        closing_day = self.today + timedelta(days=12)
        self._move(engagement, "schedule_closing", engagement.coach.user, _at(self.today, 8))
        self._session(
            engagement,
            CoachingSession.Kind.CLOSING,
            _at(closing_day, 14),
            CoachingSession.Status.PLANNED,
        )
        ClosingReview.objects.create(
            engagement=engagement,
            learnings="Camille a appris à distinguer ce qui relève de son "
            "arbitrage et ce qui relève de son équipe.",
            metacognitive_skills="Elle nomme ses réactions avant d'agir et "
            "prend le temps de relire une situation sous plusieurs angles.",
        )
        return engagement

    def _make_completed(self, engagement):
        objectives = self._activate(engagement)
        start = engagement.start_date
        self._development_sessions(engagement, start + timedelta(days=7), 11, 11)
        self._report(
            engagement,
            objectives,
            start,
            start + timedelta(days=180),
            SponsorReport.Status.RELEASED,
            [(0, -1), (0, 0), (-1, 0)],
        )
        closing_at = _at(start + timedelta(days=340), 14)
        self._move(
            engagement,
            "schedule_closing",
            engagement.coach.user,
            closing_at - timedelta(days=20),
        )
        self._session(
            engagement,
            CoachingSession.Kind.CLOSING,
            closing_at,
            CoachingSession.Status.HELD,
        )
        self._scores(
            objectives,
            ObjectiveScore.Milestone.CLOSING,
            closing_at,
            [(1, 1), (2, 1), (0, 1)],
        )
        validated = closing_at + timedelta(days=5)
        ClosingReview.objects.create(
            engagement=engagement,
            status=ClosingReview.Status.VALIDATED,
            learnings="Déléguer sans se désengager ; préparer les comités "
            "comme des décisions collectives.",
            metacognitive_skills="Camille prend du recul avant d'arbitrer et "
            "sait dire ce qui, dans une situation, relève d'elle.",
            objectives_assessment="Délégation : dépassé. Légitimité en comité : "
            "nettement dépassé. Recul en tension : atteint.",
            recommendations="Poursuivre le binôme avec Paul ; un point annuel "
            "avec la commanditaire sur le périmètre.",
            sponsor_summary="Les trois objectifs sont atteints ou dépassés.",
            coachee_validated_at=validated,
        )
        self._move(engagement, "complete", None, validated + timedelta(hours=1))
        return engagement

    def _make_withdrawn(self, engagement):
        self._activate(engagement)
        start = engagement.start_date
        sessions = self._development_sessions(engagement, start + timedelta(days=7), 6, 4)
        withdrawn_at = _at(self.today - timedelta(days=20), 11)
        for session in sessions[4:]:
            session.status = CoachingSession.Status.CANCELLED
            session.cancelled_at = withdrawn_at
            session.cancelled_by = engagement.coachee
            session.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        self._move(engagement, "withdraw", engagement.coachee, withdrawn_at)
        return engagement

    def _make_cancelled(self, engagement):
        self._make_kickoff(engagement)
        engagement.sessions.update(
            status=CoachingSession.Status.CANCELLED,
            cancelled_at=timezone.now(),
            cancelled_by=engagement.sponsor,
        )
        self._move(
            engagement,
            "cancel",
            engagement.sponsor,
            timezone.now(),
            reason="Réorganisation du périmètre après la fusion : le poste est supprimé.",
        )
        return engagement
