"""Console forms for realms."""

from __future__ import annotations

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django import forms

from .models import Realm

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


class RealmForm(forms.ModelForm):
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
            "login_session_expiry",
            "username_claim",
            "email_claim",
            "first_name_claim",
            "last_name_claim",
            "full_name_claim",
        ]
        widgets = {"idp_metadata": forms.Textarea(attrs={"rows": 8, "class": "mono"})}

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
