from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "casework.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI security schemes for our authentication classes.
        from casework.api import schema  # noqa: F401
