"""SCIM views."""

from django.http import HttpRequest, JsonResponse


def root(request: HttpRequest, realm_pk) -> JsonResponse:
    # RFC 7644 defines no resource at the root itself; clients start from /ServiceProviderConfig.
    return JsonResponse(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "404",
            "detail": "No resource at the SCIM root; see /ServiceProviderConfig, /Users and /Groups.",
        },
        status=404,
        content_type="application/scim+json",
    )
