"""Sign-in helpers."""

from django.contrib.auth import get_user_model


def axes_username(request, credentials):
    """
    The e-mail address a sign-in attempt was made for, lower-cased, so that
    failed attempts are counted per address whatever its case. Credentials
    reach django-axes keyed "username" or by the user model's e-mail field.
    """
    keys = {"username", get_user_model().USERNAME_FIELD}
    for key, value in (credentials or {}).items():
        if str(key) in keys and value:
            return str(value).strip().lower()
    post = getattr(request, "POST", {})
    return str(post.get("username", "")).strip().lower()


def client_ip(request):
    """
    The client's address: behind ``PROXY_COUNT`` trusted proxies it is the
    address they appended to X-Forwarded-For, otherwise REMOTE_ADDR.
    """
    from django.conf import settings

    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = [
        a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
