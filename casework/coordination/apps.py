from django.apps import AppConfig


class CoordinationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "casework.coordination"
    verbose_name = "Care coordination"
