from django.contrib import admin

from casework.billing.models import Payer

admin.site.register(Payer)
