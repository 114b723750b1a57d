"""Personal API tokens, under /account/api-tokens/."""

from django.urls import path

from casework.api import views_tokens

urlpatterns = [
    path("", views_tokens.token_list, name="api_tokens"),
    path("<int:token_id>/revoke/", views_tokens.token_revoke, name="api_token_revoke"),
]
