"""
Two whole journeys, each step done in the browser by the person who does it,
each person in their own browser context:

1. from a new engagement to the final synthesis PDF: the coach opens the
   engagement (the coachee and the sponsor choose their password from their
   invitation), the kickoff, the objectives, the convention signed by the
   three parties, the baseline scores, a development session, a report
   returned then approved, the closing review and the two versions of the
   final synthesis;
2. a withdrawal in the middle of an active engagement, followed by the
   closing session the coachee wished for, with her coach only.

Time passes in two steps only, through the ORM: the kickoff meeting and a
development session are moved into the past once planned, so that their
outcome and attendance can be recorded. Everything else goes through the
pages, the e-mails (Django's locmem outbox) and the tasks (run in-process).

A screenshot of each main step is kept as an artifact, in a folder printed at
the start of each test (pytest's temporary folders: the last three runs are
kept; ``pytest -s`` shows the path).
"""

import itertools
import re
from datetime import datetime, time, timedelta
from io import BytesIO

import pytest
from django.core import mail
from django.utils import formats, timezone, translation
from pypdf import PdfReader

from engagements.models import (
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    ObjectiveScore,
    SponsorReport,
)

from .. import factories
from ..conftest import move_to
from .conftest import BrowserProblems, assert_accessible, login, open_convention_pdf

pytestmark = pytest.mark.e2e

COACH = "claire.roche@cabinet.example"
COACHEE = "nadia.benali@helix.example"
SPONSOR = "marc.lefort@helix.example"
COACHEE_PASSWORD = "Boussole-de-Nadia-42"
SPONSOR_PASSWORD = "Cap-au-nord-de-Marc-17"
PORTALS = {COACH: "/espace/coach/", COACHEE: "/espace/coache/", SPONSOR: "/espace/commanditaire/"}
# Words that appear in one part of the synthesis only, to find it (or not) in the PDFs.
SHARED_WORD = "Quetzalcoatl"
PRIVATE_WORD = "Zanzibar"


# -- helpers -----------------------------------------------------------------------


class Problems(BrowserProblems):
    """
    BrowserProblems, also telling on which page each console error was logged.

    Chromium asks for the favicon after a page has loaded; moving on to the
    next page at once cancels that request (``net::ERR_ABORTED``), which says
    nothing about the app (a missing favicon still shows as a 404).
    """

    ABORTED_FAVICON = re.compile(r"failed \S+/favicon\.\w+: net::ERR_ABORTED")

    def __init__(self, page):
        super().__init__(page)
        self.pages = []
        page.on("console", lambda msg: msg.type == "error" and self.pages.append(page.url))
        page.on("pageerror", lambda _error: self.pages.append(page.url))

    def assert_none(self):
        self.failed_responses = [
            r for r in self.failed_responses if not self.ABORTED_FAVICON.fullmatch(r)
        ]
        pages = "\n".join(dict.fromkeys(self.pages))
        assert not self.console_errors, (
            "console errors:\n" + "\n".join(self.console_errors) + f"\non the pages:\n{pages}"
        )
        super().assert_none()


@pytest.fixture
def open_page(browser):
    """``open_page()``: a page in a fresh browser context, as the ``page`` fixture makes it."""
    contexts = []

    def open_():
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = Problems(page)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def shoot(request, tmp_path_factory):
    """``shoot(page, name)``: a full-page screenshot of a step, numbered, kept as an artifact."""
    folder = tmp_path_factory.mktemp(f"screenshots-{request.node.name.removeprefix('test_')[:40]}")
    print(f"\nscreenshots of {request.node.name}: {folder}")
    request.node.user_properties.append(("screenshots", str(folder)))
    numbers = itertools.count(1)

    def take(page, name):
        page.screenshot(path=folder / f"{next(numbers):02d}-{name}.png", full_page=True)

    return take


def click(page, target):
    """Click a link or a button, and wait for the page it leads to."""
    with page.expect_navigation():
        target.click()
    page.wait_for_load_state("load")


def button(page, name):
    return page.get_by_role("button", name=name, exact=True)


def link(page, name):
    return page.get_by_role("link", name=name, exact=True)


def path_of(page, live_server):
    assert page.url.startswith(live_server.url), page.url
    return page.url.removeprefix(live_server.url)


def visit(page, live_server, path):
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("load")


def emails_to(address, since=0):
    return [m for m in mail.outbox[since:] if m.to == [address]]


def recipients(messages):
    return {address for m in messages for address in m.to}


def link_in(message, live_server, prefix):
    """The link of ``message`` whose path starts with ``prefix``, on the live server."""
    path = re.search(rf"https?://[^/\s]+({re.escape(prefix)}\S*)", message.body).group(1)
    return f"{live_server.url}{path}"


def accept_invitation(page, live_server, email, password):
    """The link read in the person's invitation: choose a password, land on one's space."""
    [invitation] = [m for m in emails_to(email) if "/invitation/" in m.body]
    page.goto(link_in(invitation, live_server, "/invitation/"))
    page.wait_for_load_state("load")
    assert_accessible(page)
    page.fill("input[name=new_password1]", password)
    page.fill("input[name=new_password2]", password)
    click(page, button(page, "Accéder à mon espace"))
    assert path_of(page, live_server) == PORTALS[email]
    assert "Bienvenue ! Votre mot de passe est enregistré." in page.content()


def sign_in_again(page, live_server, email, password):
    """From now on the person signs in through the sign-in form, with the password chosen."""
    page.context.clear_cookies()
    login(page, live_server, email, password)
    assert path_of(page, live_server) == PORTALS[email]


def give_scores(page, value):
    """One goal-attainment score per objective (every radio group of the form gets ``value``)."""
    groups = page.locator("fieldset:has(input[type=radio][name^=score_])")
    assert groups.count() >= 1
    for index in range(groups.count()):
        groups.nth(index).locator(f"input[type=radio][value='{value}']").check()


def sign_convention(page, live_server, engagement, email):
    """Sign the convention out for signature, with the one-time code received by e-mail."""
    visit(page, live_server, engagement.get_absolute_url())
    click(page, link(page, "Signer la convention").first)
    assert_accessible(page)
    open_convention_pdf(page, live_server)
    since = len(mail.outbox)
    click(page, button(page, "Recevoir un code"))
    [message] = emails_to(email, since)
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page.get_by_label("Code reçu par e-mail").fill(code)
    page.locator("input[name=consent]").check()
    click(page, button(page, "Signer la convention"))
    assert "Votre signature est enregistrée" in page.content()


def fetch_pdf(page, url):
    """A PDF fetched with the person's session (the page's request context)."""
    response = page.request.get(url)
    assert response.ok, f"{response.status} {url}"
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    return body


def pdf_text(document):
    text = "".join(p.extract_text() or "" for p in PdfReader(BytesIO(document)).pages)
    return re.sub(r"\s+", "", text)


def datetime_local(moment):
    """A value for an ``<input type=datetime-local>``, in the app's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def at(days, hour):
    """``days`` from today at ``hour`` o'clock, in the app's time zone."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour)))


# -- 1. from a new engagement to the final synthesis PDF --------------------------


def test_from_a_new_engagement_to_the_final_synthesis(
    transactional_db, live_server, open_page, shoot
):
    factories.OrganizationFactory(name="Helix Énergies")
    factories.CoachFactory(user__email=COACH, user__first_name="Claire", user__last_name="Roche")
    today = timezone.localdate()
    start = today - timedelta(days=14)

    # The coach opens the engagement; the coachee and the sponsor are invited.
    coach = open_page()
    login(coach, live_server, COACH, factories.PASSWORD)
    assert path_of(coach, live_server) == PORTALS[COACH]
    assert_accessible(coach)
    shoot(coach, "coach-portal")
    click(coach, link(coach, "Nouvel accompagnement"))
    assert_accessible(coach)
    # His first engagement there: the organization is not among his own yet.
    coach.fill("input[name=new_organization_name]", "Helix Énergies")
    coach.fill("input[name=title]", "Première prise de poste de directrice")
    coach.fill("input[name=start_date]", start.isoformat())
    coach.fill("input[name=end_date]", (start + timedelta(days=365)).isoformat())
    coach.fill("input[name=sessions_contracted]", "6")
    coach.fill("input[name=fee_amount]", "9000")
    for prefix, first, last, email, job in (
        ("coachee", "Nadia", "Benali", COACHEE, "Directrice des opérations"),
        ("sponsor", "Marc", "Lefort", SPONSOR, "Directeur général"),
    ):
        coach.fill(f"input[name={prefix}_first_name]", first)
        coach.fill(f"input[name={prefix}_last_name]", last)
        coach.fill(f"input[name={prefix}_email]", email)
        coach.fill(f"input[name={prefix}_job_title]", job)
    shoot(coach, "engagement-new")
    click(coach, button(coach, "Créer et inviter"))
    # It started two weeks ago: the form asks to confirm a start in the past.
    assert_accessible(coach)
    coach.check("input[name=start_in_past_confirmed]")
    click(coach, button(coach, "Créer et inviter"))
    engagement = Engagement.objects.get(coachee__email=COACHEE)
    assert path_of(coach, live_server) == engagement.get_absolute_url()
    assert engagement.status == Engagement.Status.DRAFT
    assert_accessible(coach)

    coachee, sponsor = open_page(), open_page()
    accept_invitation(coachee, live_server, COACHEE, COACHEE_PASSWORD)
    shoot(coachee, "coachee-welcome")
    accept_invitation(sponsor, live_server, SPONSOR, SPONSOR_PASSWORD)
    sign_in_again(coachee, live_server, COACHEE, COACHEE_PASSWORD)
    sign_in_again(sponsor, live_server, SPONSOR, SPONSOR_PASSWORD)

    # The coach schedules the kickoff: the three parties are invited.
    click(coach, link(coach, "Planifier le cadrage tripartite"))
    assert_accessible(coach)
    since = len(mail.outbox)
    coach.fill("input[name=starts_at]", datetime_local(at(2, 10)))
    click(coach, button(coach, "Planifier et inviter"))
    assert path_of(coach, live_server) == f"/accompagnements/{engagement.pk}/cadrage/"
    assert recipients(mail.outbox[since:]) == {COACH, COACHEE, SPONSOR}
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.KICKOFF

    # Outside the browser (time passes, and the ORM is the only way to make it
    # pass): the kickoff meeting takes place. Its start is moved into the past,
    # so that its outcome can be recorded.
    CoachingSession.objects.filter(engagement=engagement, kind=CoachingSession.Kind.KICKOFF).update(
        starts_at=timezone.now() - timedelta(hours=2)
    )

    # The coach records the outcome and proposes two objectives from the practice's situations.
    coach.reload()
    coach.get_by_label("Attentes du coaché·e").fill("Trouver sa place dans le comité de direction.")
    coach.get_by_label("Attentes du commanditaire").fill(
        "Qu'elle pilote sans tout faire elle-même."
    )
    click(coach, button(coach, "Enregistrer les conclusions"))
    for number in range(2):
        situations = coach.locator("section").filter(
            has=coach.get_by_role("heading", name="Partir des situations du cabinet")
        )
        theme = situations.locator("details").first
        theme.locator("summary").click()
        click(coach, theme.get_by_role("button", name="Proposer cet objectif").nth(number))
    assert engagement.objectives.count() == 2
    assert_accessible(coach)
    shoot(coach, "kickoff-objectives-proposed")

    # The coachee approves the wording of each objective.
    visit(coachee, live_server, engagement.get_absolute_url())
    click(coachee, link(coachee, "Cadrage : objectifs et convention"))
    assert_accessible(coachee)
    while (approve := button(coachee, "Approuver cette formulation")).count():
        click(coachee, approve.first)
    assert not engagement.objectives.filter(approved_by_coachee_at__isnull=True).exists()
    shoot(coachee, "kickoff-objectives-approved")

    # The coach sends the convention; each party signs it with a code received by e-mail.
    coach.reload()
    click(coach, button(coach, "Envoyer la convention pour signature"))
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CONTRACTING
    shoot(coach, "convention-sent")
    sign_convention(coachee, live_server, engagement, COACHEE)
    shoot(coachee, "convention-signed-by-coachee")
    sign_convention(sponsor, live_server, engagement, SPONSOR)
    sign_convention(coach, live_server, engagement, COACH)
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE
    assert engagement.conventions.get(status=Convention.Status.SIGNED).signatures.count() == 3
    assert_accessible(coach)
    shoot(coach, "engagement-active")

    # The coachee and the sponsor give their baseline scores.
    for person, value in ((coachee, "-1"), (sponsor, "-2")):
        visit(person, live_server, engagement.get_absolute_url())
        click(person, link(person, "Indiquer vos scores de départ"))
        assert_accessible(person)
        give_scores(person, value)
        click(person, button(person, "Enregistrer mes scores de départ"))
        assert path_of(person, live_server) == engagement.get_absolute_url()
    baseline = ObjectiveScore.objects.filter(milestone=ObjectiveScore.Milestone.BASELINE)
    assert sorted(baseline.values_list("rater", "score")) == [
        ("coachee", -1),
        ("coachee", -1),
        ("sponsor", -2),
        ("sponsor", -2),
    ]
    shoot(sponsor, "sponsor-baseline-given")

    # The coach plans two development sessions: one to be held, one still
    # planned when the closing review starts.
    visit(coach, live_server, engagement.get_absolute_url())
    click(coach, link(coach, "Planning, notes et modifications →"))
    assert_accessible(coach)
    for days in (1, 28):
        coach.select_option("select[name=kind]", "development")
        coach.fill("input[name=starts_at]", datetime_local(at(days, 10)))
        click(coach, button(coach, "Planifier et inviter"))
        assert "Séance planifiée" in coach.content()
    held = engagement.sessions.get(kind=CoachingSession.Kind.DEVELOPMENT, starts_at=at(1, 10))
    shoot(coach, "sessions-planned")
    # Outside the browser again, for the same reason: the first session takes
    # place (moved into the past), so that its attendance can be recorded.
    CoachingSession.objects.filter(pk=held.pk).update(starts_at=at(-2, 10))
    coach.reload()
    click(coach, coach.locator(f"a[href$='/seances/{held.pk}/']"))
    assert_accessible(coach)
    # Recording it is confirmed on a page of its own, the choice preselected.
    click(coach, link(coach, "Réalisée"))
    assert_accessible(coach)
    assert coach.locator("input[name=status][value=held]").is_checked()
    click(coach, coach.locator("main form button[type=submit]"))
    assert "Présence enregistrée." in coach.content()
    held.refresh_from_db()
    assert held.status == CoachingSession.Status.HELD

    # The coach writes a report and submits it to the coachee.
    visit(coach, live_server, engagement.get_absolute_url())
    click(coach, link(coach, "Rédiger un compte rendu"))
    assert_accessible(coach)
    click(coach, button(coach, "Commencer le compte rendu"))
    progress = coach.locator("textarea[name^=progress_]")
    progress.nth(0).fill("Un plan des 90 jours partagé avec le comité de direction.")
    progress.nth(1).fill(
        "Les relations clés sont identifiées ; les premiers rendez-vous sont pris."
    )
    coach.locator("textarea[name=general_comment]").fill("Un engagement régulier et exigeant.")
    assert_accessible(coach)
    click(coach, button(coach, "Soumettre à l'approbation du coaché·e"))
    report = engagement.reports.get()
    assert report.status == SponsorReport.Status.AWAITING_APPROVAL
    assert report.sessions_held == 1

    # The coachee returns it with a comment.
    visit(coachee, live_server, engagement.get_absolute_url())
    click(coachee, coachee.get_by_role("link", name=re.compile(r"^Du ")))
    assert_accessible(coachee)
    shoot(coachee, "report-to-approve")
    coachee.get_by_label("Que souhaitez-vous que votre coach modifie ?").fill(
        "Merci de ne pas mentionner le comité de direction."
    )
    click(coachee, button(coachee, "Renvoyer à mon coach"))
    report.refresh_from_db()
    assert report.status == SponsorReport.Status.CHANGES_REQUESTED

    # The coach follows the link of the e-mail telling him, reads the comment,
    # rewords and submits again.
    [returned] = [m for m in emails_to(COACH) if "/redaction/" in m.body]
    coach.goto(link_in(returned, live_server, report.get_absolute_url()))
    assert path_of(coach, live_server) == f"{report.get_absolute_url()}redaction/"
    assert "Merci de ne pas mentionner le comité de direction." in coach.content()
    shoot(coach, "report-returned")
    coach.locator("textarea[name^=progress_]").nth(0).fill(
        "Un plan des 90 jours partagé avec sa hiérarchie."
    )
    click(coach, button(coach, "Soumettre à l'approbation du coaché·e"))
    report.refresh_from_db()
    assert report.status == SponsorReport.Status.AWAITING_APPROVAL

    # The coachee approves it with her scores.
    coachee.reload()
    give_scores(coachee, "0")
    click(coachee, button(coachee, "Approuver et transmettre à mon commanditaire"))
    report.refresh_from_db()
    assert report.status == SponsorReport.Status.RELEASED
    shoot(coachee, "report-approved")

    # The sponsor follows the link of the e-mail telling him, reads the report,
    # opens its PDF and gives his scores.
    [released] = [m for m in emails_to(SPONSOR) if report.get_absolute_url() in m.body]
    sponsor.goto(link_in(released, live_server, report.get_absolute_url()))
    assert path_of(sponsor, live_server) == report.get_absolute_url()
    assert_accessible(sponsor)
    assert "sa hiérarchie" in sponsor.content()
    fetch_pdf(sponsor, f"{live_server.url}{link(sponsor, 'PDF').get_attribute('href')}")
    give_scores(sponsor, "-1")
    click(sponsor, button(sponsor, "Enregistrer mes scores"))
    assert "Merci : vos scores sont enregistrés." in sponsor.content()
    assert report.scores.filter(rater=ObjectiveScore.Rater.SPONSOR).count() == 2
    shoot(sponsor, "report-read-and-scored")

    # The coach starts the closing review, cancelling the session still planned.
    visit(coach, live_server, engagement.get_absolute_url())
    click(coach, link(coach, "Démarrer le bilan de clôture"))
    assert_accessible(coach)
    coach.get_by_label("Les annuler : toutes les personnes invitées sont prévenues").check()
    shoot(coach, "closing-start")
    click(coach, button(coach, "Démarrer le bilan de clôture"))
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CLOSING
    assert not engagement.sessions.filter(
        kind=CoachingSession.Kind.DEVELOPMENT, status=CoachingSession.Status.PLANNED
    ).exists()

    # He books the closing tripartite meeting: the three parties are invited.
    assert path_of(coach, live_server) == f"/accompagnements/{engagement.pk}/seances/"
    since = len(mail.outbox)
    coach.select_option("select[name=kind]", "closing")
    coach.fill("input[name=starts_at]", datetime_local(at(3, 14)))
    click(coach, button(coach, "Planifier et inviter"))
    assert recipients(mail.outbox[since:]) == {COACH, COACHEE, SPONSOR}
    assert engagement.sessions.filter(kind=CoachingSession.Kind.CLOSING).count() == 1

    # He writes the synthesis and gives it to the coachee.
    visit(coach, live_server, engagement.get_absolute_url())
    click(coach, link(coach, "La synthèse →"))
    coach.fill("textarea[name=learnings]", f"Déléguer sans s'effacer ({SHARED_WORD}).")
    coach.fill("textarea[name=metacognitive_skills]", f"Prendre du recul ({PRIVATE_WORD}).")
    coach.fill("textarea[name=objectives_assessment]", "Les deux objectifs sont atteints.")
    coach.fill("textarea[name=recommendations]", "Poursuivre avec un mentor interne.")
    assert_accessible(coach)
    click(coach, button(coach, "Remettre au coaché·e pour validation"))
    assert engagement.closing_review.status == ClosingReview.Status.AWAITING_COACHEE
    shoot(coach, "synthesis-given")

    # The coachee gives her final scores, then validates, sharing all but one part.
    visit(coachee, live_server, engagement.get_absolute_url())
    click(coachee, link(coachee, "Indiquer mes scores finaux"))
    assert_accessible(coachee)
    give_scores(coachee, "1")
    click(coachee, button(coachee, "Enregistrer mes scores finaux"))
    assert path_of(coachee, live_server) == f"/accompagnements/{engagement.pk}/cloture/synthese/"
    assert_accessible(coachee)
    for label in (
        "Apprentissages",
        "Degré d'atteinte de chaque objectif",
        "Recommandations et prochaines étapes",
    ):
        coachee.get_by_label(label, exact=True).check()
    coachee.get_by_label("Compétences métacognitives développées", exact=True).uncheck()
    shoot(coachee, "synthesis-validation")
    click(coachee, button(coachee, "Valider la synthèse"))
    review = ClosingReview.objects.get(engagement=engagement)
    assert review.status == ClosingReview.Status.VALIDATED
    assert [name for name, *_rest in review.shared_parts()] == [
        "learnings",
        "objectives_assessment",
        "recommendations",
    ]

    # The sponsor gives his final scores.
    visit(sponsor, live_server, engagement.get_absolute_url())
    click(sponsor, link(sponsor, "Indiquer mes scores finaux"))
    give_scores(sponsor, "1")
    click(sponsor, button(sponsor, "Enregistrer mes scores finaux"))
    assert path_of(sponsor, live_server) == engagement.get_absolute_url()

    # The coach issues the final synthesis: the engagement is completed.
    visit(coach, live_server, f"/accompagnements/{engagement.pk}/cloture/synthese/")
    since = len(mail.outbox)
    click(coach, button(coach, "Établir la synthèse finale"))
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.COMPLETED
    assert {COACHEE, SPONSOR} <= recipients(mail.outbox[since:])
    assert_accessible(coach)
    shoot(coach, "synthesis-issued")

    # Each party downloads their version: the coachee from her engagement page,
    # the sponsor from the e-mail telling him. His lacks the part kept private.
    visit(coachee, live_server, engagement.get_absolute_url())
    click(coachee, link(coachee, "La synthèse finale →"))
    [issued] = [m for m in emails_to(SPONSOR, since) if "/cloture/synthese/" in m.body]
    sponsor.goto(link_in(issued, live_server, "/accompagnements/"))
    assert PRIVATE_WORD not in sponsor.content()
    versions = {}
    for email, person in ((COACHEE, coachee), (SPONSOR, sponsor)):
        assert path_of(person, live_server) == engagement.closing_review.get_absolute_url()
        assert_accessible(person)
        shoot(person, f"final-synthesis-{email.split('@')[0]}")
        href = link(person, "Synthèse finale (PDF)").get_attribute("href")
        versions[email] = pdf_text(fetch_pdf(person, f"{live_server.url}{href}"))
    assert SHARED_WORD in versions[COACHEE] and PRIVATE_WORD in versions[COACHEE]
    assert SHARED_WORD in versions[SPONSOR]
    assert PRIVATE_WORD not in versions[SPONSOR]

    for person in (coach, coachee, sponsor):
        person.problems.assert_none()


# -- 2. a withdrawal, then the closing session with the coach ----------------------


def test_a_withdrawal_then_the_closing_session_with_the_coach(
    transactional_db, live_server, open_page, shoot
):
    # An active engagement, built through the workflow to keep the journey short.
    today = timezone.localdate()
    engagement = move_to(
        factories.EngagementFactory(
            coach=factories.CoachFactory(user__email=COACH, user__first_name="Claire"),
            coachee=factories.UserFactory(email=COACHEE, first_name="Nadia", last_name="Benali"),
            sponsor=factories.UserFactory(email=SPONSOR, first_name="Marc", last_name="Lefort"),
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=335),
            title="Passer du faire au faire-faire",
        ),
        Engagement.Status.ACTIVE,
    )
    planned = factories.CoachingSessionFactory(
        engagement=engagement, kind=CoachingSession.Kind.DEVELOPMENT, starts_at=at(7, 10)
    )

    # The coachee ends her engagement, saying she would welcome a closing session.
    coachee = open_page()
    login(coachee, live_server, COACHEE, factories.PASSWORD)
    visit(coachee, live_server, engagement.get_absolute_url())
    assert_accessible(coachee)
    click(coachee, link(coachee, "Mettre fin à mon accompagnement"))
    assert_accessible(coachee)
    coachee.get_by_label("Je souhaiterais une séance de clôture avec mon coach").check()
    shoot(coachee, "withdrawal")
    since = len(mail.outbox)
    click(coachee, button(coachee, "Mettre fin à mon accompagnement"))
    assert path_of(coachee, live_server) == engagement.get_absolute_url()
    assert "Votre accompagnement a pris fin." in coachee.content()
    shoot(coachee, "withdrawn")
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.WITHDRAWN
    planned.refresh_from_db()
    assert planned.status == CoachingSession.Status.CANCELLED

    # Both notices are neutral; only the coach's tells of the closing session wished for.
    wish = "souhaiterait une séance de clôture"
    notices = {
        address: [m for m in emails_to(address, since) if "a décidé de mettre fin" in m.body]
        for address in (COACH, SPONSOR)
    }
    assert len(notices[COACH]) == len(notices[SPONSOR]) == 1
    assert wish in notices[COACH][0].body
    assert wish not in notices[SPONSOR][0].body

    # The coach books the closing session with the coachee, from the sessions page.
    coach = open_page()
    login(coach, live_server, COACH, factories.PASSWORD)
    visit(coach, live_server, engagement.get_absolute_url())
    assert_accessible(coach)
    shoot(coach, "coach-engagement-page-after-withdrawal")
    click(coach, link(coach, "Planning, notes et modifications →"))
    assert_accessible(coach)
    kinds = coach.locator("select[name=kind] option")
    assert kinds.all_inner_texts() == ["Séance de clôture avec le coach"]
    coach.select_option("select[name=kind]", label="Séance de clôture avec le coach")
    farewell_at = at(3, 17)
    coach.fill("input[name=starts_at]", datetime_local(farewell_at))
    since = len(mail.outbox)
    click(coach, button(coach, "Planifier et inviter"))
    assert "Séance planifiée" in coach.content()
    shoot(coach, "farewell-booked")
    farewell = engagement.sessions.get(kind=CoachingSession.Kind.FAREWELL)
    assert farewell.status == CoachingSession.Status.PLANNED

    # The invitation goes to the coach and the coachee only; the engagement stays withdrawn.
    assert recipients(mail.outbox[since:]) == {COACH, COACHEE}
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.WITHDRAWN
    coachee.reload()
    assert "Séance de clôture avec le coach" in coachee.content()

    # The sponsor's engagement page does not show it.
    sponsor = open_page()
    login(sponsor, live_server, SPONSOR, factories.PASSWORD)
    visit(sponsor, live_server, engagement.get_absolute_url())
    assert_accessible(sponsor)
    shoot(sponsor, "sponsor-engagement-page")
    sessions = sponsor.locator("section[aria-labelledby=sessions-title]")
    with translation.override("fr"):
        farewell_day = formats.date_format(timezone.localtime(farewell_at), "j F Y")
    assert farewell_day not in sessions.inner_text()
    # Only planned sessions reach the sponsor: the cancelled one is not listed either.
    assert sessions.locator("time").count() == 0
    assert "clôture" not in sessions.inner_text().lower()

    for person in (coachee, coach, sponsor):
        person.problems.assert_none()
