"""Sign-in helpers."""

import ipaddress

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

    proxies = settings.PROXY_COUNT
    header = request.headers.get("x-forwarded-for", "")
    forwarded = [address.strip() for address in header.split(",") if address.strip()]
    if proxies and len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
        return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _is_ip(remote) else ""


def _is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
