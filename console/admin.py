"""The reference host's user admin: Django's own, on the host's user model."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm

from .models import User

try:  # Django 5.1+: the admin's creation form (it has the usable_password field the admin's fieldsets name)
    from django.contrib.auth.forms import AdminUserCreationForm as _CreationForm
except ImportError:  # pragma: no cover
    from django.contrib.auth.forms import UserCreationForm as _CreationForm


class ConsoleUserCreationForm(_CreationForm):
    class Meta(_CreationForm.Meta):
        model = User
        fields = ("username",)


class ConsoleUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    """The people who log into the console; service accounts have their own admin (realms), without passwords."""

    form = ConsoleUserChangeForm
    add_form = ConsoleUserCreationForm

    def get_queryset(self, request):
        return super().get_queryset(request).filter(realms_service_account__isnull=True)

    def get_fieldsets(self, request, obj=None):
        # Django's read-only password widget links to the password form, a 403 for whoever may only view users:
        # they see no password field at all.
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "password"]}) for name, opts in fieldsets]
