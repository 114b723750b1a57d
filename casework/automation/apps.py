from django.apps import AppConfig


class AutomationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "casework.automation"
    verbose_name = "Automation rules and reminders"
