"""The URNs of RFC 7643 and RFC 7644: resource schemas, discovery schemas and protocol messages."""

from __future__ import annotations

from typing import Final

#: Resource schemas, RFC 7643 §8.7.1 (User, Group) and §4.3 (Enterprise User extension).
USER_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_URN: Final = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

#: Service provider configuration schemas, RFC 7643 §5, §6, §7 (registered in §10.2).
SERVICE_PROVIDER_CONFIG_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN: Final = "urn:ietf:params:scim:schemas:core:2.0:Schema"

#: Protocol messages, RFC 7644 §3.4.2 (ListResponse), §3.4.3 (SearchRequest), §3.5.2 (PatchOp),
#: §3.7 (BulkRequest/BulkResponse) and §3.12 (Error).
LIST_RESPONSE_URN: Final = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_URN: Final = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP_URN: Final = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST_URN: Final = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_URN: Final = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR_URN: Final = "urn:ietf:params:scim:api:messages:2.0:Error"
