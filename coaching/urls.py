from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

admin.site.site_header = _("Tripartite coaching — administration")
admin.site.site_title = _("Coaching administration")

# Uploaded and generated files (conventions, syntheses) are confidential: they
# are never served from MEDIA_URL, only through views that check access.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("engagements.urls")),
]
