"""
The confidentiality policy, generated from the table: every URL of the app,
for every persona, answers exactly as DOMAIN.md allows. A URL added to the
app without a line here fails ``test_every_url_has_a_declared_policy``.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from engagements.models import Engagement, HRMembership, HRProposal

PERSONAS = ["coach", "coachee", "sponsor", "hr", "other_coach", "other_hr", "outsider", "anonymous"]

OK, REDIRECT, NOT_FOUND, NOT_ALLOWED = 200, 302, 404, 405
LOGIN = "login"  # anonymous visitors are sent to the sign-in page


def everyone(status):
    return dict.fromkeys(PERSONAS, status)


def only(allowed, status=OK, others=NOT_FOUND):
    """``allowed`` personas get ``status``, the other signed-in ones 404, anonymous → login."""
    policy = {persona: others for persona in PERSONAS}
    policy.update(dict.fromkeys(allowed, status))
    policy["anonymous"] = LOGIN
    return policy


# url name: expected answer to a GET, per persona.
POLICY = {
    "home": {**everyone(REDIRECT), "outsider": OK, "anonymous": LOGIN},
    "login": {**everyone(REDIRECT), "anonymous": OK},
    "logout": {**everyone(NOT_ALLOWED), "anonymous": LOGIN},
    "set_language": everyone(NOT_ALLOWED),
    "password_reset": everyone(OK),
    "password_reset_done": everyone(OK),
    "password_reset_confirm": everyone(OK),  # an invalid link says so
    "password_reset_complete": everyone(OK),
    "invitation_accept": everyone(OK),  # an invalid link says so
    "coach_portal": only(["coach", "other_coach"]),
    "coachee_portal": only(["coachee"]),
    "sponsor_portal": only(["sponsor"]),
    "hr_portal": only(["hr", "other_hr"]),
    # The other organization's HR has no signed convention: told so on the HR page.
    "hr_export": {**only(["hr"]), "other_hr": REDIRECT},
    # An export is its requester's only (tests/test_exports.py, per persona).
    "convention_export": only([]),
    "session_ics": only(["coach", "coachee"]),
    "convention_export_download": only([]),
    # HR access: the coach proposes (he coaches in the organization; the other
    # coach does not), HR grants or confirms for their own organization.
    "hr_invite": only(["coach", "hr", "other_hr"]),
    "hr_proposals": only(["hr", "other_hr"]),
    "engagement_new": only(["coach", "other_coach"]),
    "engagement_detail": only(["coach", "coachee", "sponsor", "hr"]),
    "engagement_withdraw": only(["coachee"]),
    "engagement_cancel": only(["coach", "sponsor"]),
    "kickoff_schedule": only(["coach"]),
    "kickoff": only(["coach", "coachee"]),
    "convention_sign": only(["coach", "coachee", "sponsor"]),
    "convention_document": only(["coach", "coachee", "sponsor", "hr"]),
    "convention_signed_document": only(["coach", "coachee", "sponsor", "hr"]),
    "engagement_terms": only(["coach"]),
    # The world is active: its convention is signed, the coach is sent back.
    "organization_details": only(["coach"], status=REDIRECT),
    "sessions": only(["coach", "coachee"]),
    # The world's report is released: the three parties read it, nobody edits it.
    "report_new": only(["coach"]),
    "report_detail": only(["coach", "coachee", "sponsor"]),
    "report_edit": only(["coach"], status=REDIRECT),  # released: back to the report
    "report_pdf": only(["coach", "coachee", "sponsor"]),
    "baseline_scores": only(["coachee", "sponsor"]),
    # The world is active: the closing review has not started.
    "closing_start": only(["coach"]),
    "synthesis": only([]),
    "synthesis_pdf": only([]),
    "closing_scores": only(["coachee", "sponsor"]),
    "session_detail": only(["coach", "coachee"]),
    # Confirmation pages: the world's session is planned and ahead. Its
    # attendance cannot be recorded yet: the coach is sent back to the session.
    "session_cancel": only(["coach", "coachee"]),
    "session_attendance": only(["coach"], status=REDIRECT),
    "calendar_settings": only(["coach", "coachee", "sponsor", "hr", "other_coach", "other_hr"]),
    "calendar_feed": everyone(NOT_FOUND),  # public, but only with a live token
    # What is kept and for how long: anyone signed in; the own-data ZIP: coachees only.
    "privacy": {**everyone(OK), "anonymous": LOGIN},
    "privacy_archive": only(["coachee"]),
    # Actions: POST only (see POST_POLICY for who may post).
    **{
        name: {**everyone(NOT_ALLOWED), "anonymous": LOGIN}
        for name in [
            "kickoff_outcome",
            "objective_add",
            "objective_edit",
            "objective_approve",
            "objective_delete",
            "convention_send",
            "convention_code",
            "convention_sign_submit",
            "session_new",
            "series",
            "session_reschedule",
            "session_notes",
            "availability_request",
            "availability_save",
            "report_approve",
            "report_return",
            "report_scores",
            "closing_request",
            "synthesis_validate",
            "synthesis_return",
            "synthesis_issue",
            "hr_proposal_confirm",
            "hr_proposal_decline",
            "invitation_resend",
        ]
    },
}

# Who may POST to each action; everyone else signed in gets a 404 and nothing changes.
POST_POLICY = {
    "kickoff_outcome": ["coach"],
    "objective_add": ["coach", "coachee"],
    "objective_edit": ["coach", "coachee"],
    "objective_approve": ["coachee"],
    "objective_delete": ["coach", "coachee"],
    "baseline_scores": ["coachee", "sponsor"],
    "report_new": ["coach"],
    "report_edit": ["coach"],
    "report_approve": ["coachee"],
    "report_return": ["coachee"],
    "report_scores": ["sponsor"],
    "closing_start": ["coach"],
    "closing_request": ["coachee"],
    "closing_scores": ["coachee", "sponsor"],
    "convention_send": ["coach"],
    "convention_code": ["coach", "coachee", "sponsor"],
    "convention_sign_submit": ["coach", "coachee", "sponsor"],
    "engagement_withdraw": ["coachee"],
    "engagement_cancel": ["coach", "sponsor"],
    "kickoff_schedule": ["coach"],
    "engagement_terms": ["coach"],
    "organization_details": ["coach"],
    "invitation_resend": ["coach"],
    "session_new": ["coach"],
    "series": ["coach"],
    "session_reschedule": ["coach", "coachee"],
    "session_cancel": ["coach", "coachee"],
    "session_attendance": ["coach"],
    "session_notes": ["coach", "coachee"],
    "availability_request": ["coach"],
    "availability_save": ["coachee"],
    # The coach's proposal for the world's organization: only its HR decides.
    "hr_proposal_confirm": ["hr"],
    "hr_proposal_decline": ["hr"],
}


def app_url_names():
    """Every named URL the project serves, except the Django admin."""
    names = set()

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_a_declared_policy():
    assert app_url_names() == set(POLICY)


def url_for(name, engagement):
    kwargs = {}
    pattern = get_resolver().reverse_dict.getlist(name)[0][0][0][1]
    if "pk" in pattern:
        kwargs["pk"] = engagement.pk
    if "uidb64" in pattern:
        kwargs.update(uidb64="MQ", token="invalid-token")
    if "version" in pattern:
        kwargs["version"] = 1
    if "objective_id" in pattern:
        kwargs["objective_id"] = engagement.objectives.get().pk
    if "session_id" in pattern:
        kwargs["session_id"] = engagement.sessions.get().pk
    if "version" in pattern and "synthese" in pattern:
        kwargs["version"] = "coachee"
    if "report_id" in pattern:
        kwargs["report_id"] = engagement.reports.get().pk
    if "proposal_id" in pattern:
        kwargs["proposal_id"] = engagement.organization.hr_proposals.get().pk
    if "role" in pattern:
        kwargs["role"] = "coachee"
    if "token" in pattern and "uidb64" not in pattern:
        kwargs["token"] = "not-a-live-token"
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(POLICY))
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_exactly_what_the_policy_says(request, client, world, name, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = url_for(name, world)
    response = client.get(url)
    expected = POLICY[name][persona]
    if expected == LOGIN:
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
    else:
        assert response.status_code == expected, (url, persona)


@pytest.mark.parametrize("name", sorted(POST_POLICY))
@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_actions_refuse_whoever_has_no_right_to_them(request, client, world, name, persona):
    client.force_login(request.getfixturevalue(persona))
    before = (
        Engagement.objects.get(pk=world.pk).status,
        world.objectives.count(),
        HRMembership.objects.count(),
        HRProposal.objects.filter(status=HRProposal.Status.PENDING).count(),
    )
    response = client.post(url_for(name, world), {})
    if persona in POST_POLICY[name]:
        assert response.status_code in (200, 302), (name, persona)
    else:
        assert response.status_code == 404, (name, persona)
        after = (
            Engagement.objects.get(pk=world.pk).status,
            world.objectives.count(),
            HRMembership.objects.count(),
            HRProposal.objects.filter(status=HRProposal.Status.PENDING).count(),
        )
        assert after == before
