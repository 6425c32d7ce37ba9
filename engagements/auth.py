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
