from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("service-accounts/", views.ServiceAccountListView.as_view(), name="service_accounts"),
    path("service-accounts/create/", views.ServiceAccountCreateView.as_view(), name="create_service_account"),
    path("service-accounts/<int:pk>/", views.ServiceAccountDetailView.as_view(), name="service_account"),
    path("service-accounts/<int:pk>/tokens/create/", views.TokenCreateView.as_view(), name="create_token"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="revoke_token"),
]
