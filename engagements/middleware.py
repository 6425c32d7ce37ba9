import time

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject


class LanguageMiddleware:
    """
    French first. The language is the one chosen with the language switch
    (its cookie), else the signed-in user's saved preference, else French.
    The browser's Accept-Language is deliberately ignored: a practice in
    France works in French unless someone asks otherwise.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = dict(settings.LANGUAGES)

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in self.available:
            user = getattr(request, "user", None)
            authenticated = user is not None and user.is_authenticated
            code = user.language if authenticated else settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", code)
        translation.deactivate()
        return response


class PortalsMiddleware:
    """
    ``request.portals``: the roles the signed-in person holds somewhere. The
    navigation needs them on every page, so they are kept in the session for
    a few minutes instead of being asked of the database each time; a page
    that needs a role they lack asks again (``portals_refresh``), so a role
    just granted is never refused. Losing a role hides nothing too late: the
    selectors check it on every read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.portals = SimpleLazyObject(lambda: _session_portals(request))
        return self.get_response(request)


PORTALS_KEY = "_portals"
PORTALS_SECONDS = 5 * 60


def _session_portals(request):
    user = request.user
    if not user.is_authenticated:
        return []
    kept = request.session.get(PORTALS_KEY)
    if kept and kept["user"] == user.pk and time.time() - kept["at"] < PORTALS_SECONDS:
        return kept["roles"]
    return portals_refresh(request)


def portals_refresh(request):
    """The person's portals asked of the database, and kept again."""
    from .permissions import portals_of

    roles = portals_of(request.user)
    request.session[PORTALS_KEY] = {"user": request.user.pk, "roles": roles, "at": time.time()}
    request.portals = roles
    return roles


class SessionRefreshMiddleware:
    """
    Sessions end after ``SESSION_COOKIE_AGE`` of inactivity. Instead of
    writing the session on every request, its expiry is pushed back at most
    every ``SESSION_REFRESH_SECONDS``: the timeout is as announced, give or
    take that much, for one write every few minutes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get("_refreshed", 0) >= settings.SESSION_REFRESH_SECONDS:
                session["_refreshed"] = now
        return response


class NoStoreMiddleware:
    """
    ``Cache-Control: private, no-store`` on every answer of the app: its pages,
    PDFs, ZIPs carry confidential content that no shared cache nor the
    browser's disk may keep. (Static files are answered earlier, by
    WhiteNoise, with their own long cache.) The one exception sets its own:
    the calendar feed, ``private, no-cache``, kept by the person's calendar
    program only and asked again each time (ETag, 304).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
