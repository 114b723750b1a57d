"""Care coordination routes: each area owns its own urls module, mounted here at the site root
(their paths start with `clients/<id>/…`, `directory/` or `team/`)."""

from django.urls import include, path

urlpatterns = [
    path("", include("casework.coordination.urls_consents")),
    path("", include("casework.coordination.urls_documents")),
    path("", include("casework.coordination.urls_directory")),
    path("", include("casework.coordination.urls_referrals")),
    path("", include("casework.coordination.urls_communications")),
    path("", include("casework.coordination.urls_collaboration")),
]
