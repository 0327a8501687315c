"""The management API and the change feed: what a host or a script builds on a realm's identities.

Served under the same `api/` include as SCIM (scim.urls includes realms.api.urls): `<base>/api/realms/`,
`<base>/api/realms/<uuid>/events/`, `<base>/api/service-accounts/`, and the OpenAPI document at `<base>/api/schema/`.
Authenticated with the same API tokens as SCIM, gated by Django model permissions (docs/api.md).
"""
