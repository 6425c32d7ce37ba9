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
    """``request.portals``: the roles the signed-in person holds somewhere, computed once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .permissions import portals_of

        request.portals = SimpleLazyObject(lambda: portals_of(request.user))
        return self.get_response(request)


class NoStoreMiddleware:
    """
    ``Cache-Control: private, no-store`` on every answer of the app: its pages,
    PDFs, ZIPs and calendar feeds carry confidential content that no shared
    cache nor the browser's disk may keep. (Static files are answered earlier,
    by WhiteNoise, with their own long cache.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response
