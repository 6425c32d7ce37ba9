from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Tripartite coaching — administration")
admin.site.site_title = _("Coaching administration")

# Uploaded and generated files (conventions, syntheses) are confidential: they
# are never served from MEDIA_URL, only through views that check access.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("engagements.urls")),
]
