from django import forms
from django.contrib.auth.forms import AuthenticationForm

from realms.models import is_service_account


class ConsoleAuthenticationForm(AuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        # Service accounts have no usable password; this keeps the refusal whatever the backends.
        if is_service_account(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        super().confirm_login_allowed(user)
