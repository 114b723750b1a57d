from django.contrib import admin

from casework.billing.models import Payer
from casework.core.admin import ReadOnlyAdmin

admin.site.register(Payer, ReadOnlyAdmin)
