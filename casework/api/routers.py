"""The API's routes; each app's viewsets register here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
