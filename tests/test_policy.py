"""
The confidentiality policy, generated from the table: every URL of the app,
for every persona, answers exactly as DOMAIN.md allows. A URL added to the
app without a line here fails ``test_every_url_has_a_declared_policy``.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from engagements.models import Engagement

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
    "hr_invite": only(["coach", "other_coach"]),
    "engagement_new": only(["coach", "other_coach"]),
    "engagement_detail": only(["coach", "coachee", "sponsor", "hr"]),
    "engagement_withdraw": only(["coachee"]),
    "engagement_cancel": only(["coach", "sponsor"]),
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
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def world(engagement_in, hr, other_coach, other_hr, outsider):
    """The persona engagement, active, with every other persona in place."""
    return engagement_in(Engagement.Status.ACTIVE)


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
