from django.urls import path

from followup.tokens import views

app_name = "tokens"
urlpatterns = [
    path("accounts/tokens/", views.token_list, name="token_list"),
    path("accounts/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
