"""Forms of the accounts app (console and Django admin)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group
from django.utils import timezone

from .models import ServiceAccount


class ConsoleAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        # The backend already refuses service accounts; this keeps the refusal if backends change.
        if getattr(user, "is_service_account", False):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        super().confirm_login_allowed(user)


class ServiceAccountForm(forms.ModelForm):
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The Django permissions of these groups decide what the account's tokens may do.",
    )

    class Meta:
        model = ServiceAccount
        fields = ["username", "description", "groups"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"username": "Letters, digits and @/./+/-/_ only, e.g. okta-scim."}


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'Okta provisioning'.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional. Leave empty for a token that does not expire (revoke it when it is no longer used).",
    )

    realm = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Every realm",
        help_text="Restrict the token to one realm's SCIM API: it gets 404 on every other realm.",
    )

    def __init__(self, *args, **kwargs) -> None:
        from realms.models import Realm

        super().__init__(*args, **kwargs)
        self.fields["realm"].queryset = Realm.objects.order_by("name")

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at
