"""Console forms for realms."""

from __future__ import annotations

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from ..models import REALM_NAME_TAKEN, Realm, default_login_session_expiry
from ..services.setup import realm_by_name

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def validate_idp_metadata(xml: str) -> None:
    """Refuse anything that is not SAML 2.0 metadata with an IdP SSO descriptor, with a message saying why."""
    try:
        root = ElementTree.fromstring(xml.encode("utf-8"))
    except DefusedXmlException:
        raise forms.ValidationError("The IdP metadata contains forbidden XML constructs (DTD or entities).") from None
    except ElementTree.ParseError as exc:
        raise forms.ValidationError(f"The IdP metadata is not valid XML: {exc}.") from None
    if root.tag not in (f"{{{MD_NS}}}EntityDescriptor", f"{{{MD_NS}}}EntitiesDescriptor"):
        raise forms.ValidationError(
            "The IdP metadata must be a SAML 2.0 EntityDescriptor; in Okta, copy the 'Metadata URL' content "
            "of the application's Sign On tab."
        )
    if root.find(f".//{{{MD_NS}}}IDPSSODescriptor") is None:
        raise forms.ValidationError(
            "The IdP metadata has no IDPSSODescriptor: it does not describe an identity provider."
        )
    if root.find(f".//{{{MD_NS}}}IDPSSODescriptor/{{{MD_NS}}}SingleSignOnService") is None:
        raise forms.ValidationError("The IdP metadata has no SingleSignOnService endpoint.")


DURATION_UNITS = [("days", "days"), ("hours", "hours"), ("minutes", "minutes"), ("seconds", "seconds")]
_UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


class DurationWidget(forms.MultiWidget):
    """A number and its unit: "8 hours" rather than 28800 seconds."""

    def __init__(self, attrs=None) -> None:
        number = forms.NumberInput(attrs={"min": 1, "step": 1, "class": "duration-number"})
        unit = forms.Select(choices=DURATION_UNITS, attrs={"class": "duration-unit"})
        super().__init__([number, unit], attrs)

    def value_from_datadict(self, data, files, name):
        if f"{name}_0" not in data and name in data:  # a script posting seconds, as before this widget
            return self.decompress(data.get(name))
        return super().value_from_datadict(data, files, name)

    def decompress(self, value):
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            return [None, "hours"]
        for unit, size in _UNIT_SECONDS.items():
            if seconds and seconds % size == 0:
                return [seconds // size, unit]
        return [seconds, "seconds"]


class DurationInSecondsField(forms.MultiValueField):
    """A positive duration entered as a number and a unit, cleaned to seconds (what the model stores)."""

    widget = DurationWidget

    def __init__(self, **kwargs) -> None:
        fields = (
            forms.IntegerField(min_value=1, error_messages={"min_value": "The duration must be positive."}),
            forms.ChoiceField(choices=DURATION_UNITS),
        )
        super().__init__(fields, require_all_fields=True, **kwargs)

    def compress(self, data_list):
        if not data_list:
            return None
        number, unit = data_list
        return int(number) * _UNIT_SECONDS[unit]


class RealmForm(forms.ModelForm):
    login_session_expiry = DurationInSecondsField(
        label="Login session expiry",
        initial=default_login_session_expiry,
        help_text="How long a console session opened through this realm lasts, e.g. 8 hours.",
    )
    idp_metadata_file = forms.FileField(
        label="IdP metadata file",
        required=False,
        help_text="Or upload the metadata XML file instead of pasting it.",
    )

    class Meta:
        model = Realm
        fields = [
            "name",
            "scim_enabled",
            "enabled_for_login",
            "idp_metadata",
            "allow_idp_initiated_login",
            "allow_weak_signature_algorithms",
            "login_session_expiry",
            "username_claim",
            "email_claim",
            "first_name_claim",
            "last_name_claim",
            "full_name_claim",
        ]
        widgets = {"idp_metadata": forms.Textarea(attrs={"rows": 8, "class": "mono"})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = realm_by_name(name)
        if taken is not None and taken.pk != self.instance.pk:
            raise forms.ValidationError(f"{REALM_NAME_TAKEN[:-1]}: “{taken.name}”.")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("idp_metadata_file")
        if upload:
            if upload.size > 1024 * 1024:
                self.add_error("idp_metadata_file", "The metadata file is larger than 1 MiB.")
                return cleaned
            try:
                cleaned["idp_metadata"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("idp_metadata_file", "The metadata file is not UTF-8 text.")
                return cleaned
        metadata = (cleaned.get("idp_metadata") or "").strip()
        cleaned["idp_metadata"] = metadata
        if metadata:
            try:
                validate_idp_metadata(metadata)
            except forms.ValidationError as exc:
                self.add_error("idp_metadata_file" if upload else "idp_metadata", exc)
        elif cleaned.get("enabled_for_login"):
            self.add_error("enabled_for_login", "A realm needs its IdP metadata to be enabled for login.")
        return cleaned

    def save(self, commit: bool = True) -> Realm:
        self.instance.idp_metadata = self.cleaned_data.get("idp_metadata", "")
        return super().save(commit=commit)


# ------------------------------------------------------------------------------------ service accounts and tokens


def new_service_account_username(username: str) -> str:
    """A username for a new service account, as the host's user model validates it, and not taken (console and
    admin forms alike)."""
    user_model = get_user_model()
    user = user_model(**{user_model.USERNAME_FIELD: username})
    username = user_model._meta.get_field(user_model.USERNAME_FIELD).clean(username, user)
    if user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).exists():
        raise forms.ValidationError(f"A user named {username!r} already exists.")
    return username


class ServiceAccountForm(forms.Form):
    """A new service account: a username on the host's user model, what it is for, and its groups."""

    username = forms.CharField(max_length=150, help_text="Letters, digits and @/./+/-/_ only, e.g. okta-scim.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The Django permissions of these groups decide what the account's tokens may do.",
    )

    def clean_username(self) -> str:
        return new_service_account_username(self.cleaned_data["username"])


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'Okta provisioning'.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional. Leave empty for a token that does not expire (revoke it when it is no longer used).",
    )
    realm = forms.ModelChoiceField(
        queryset=Realm.objects.order_by("name"),
        required=False,
        empty_label="Every realm",
        help_text="Restrict the token to one realm's SCIM API: it gets 404 on every other realm.",
    )

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at
