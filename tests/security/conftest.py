from ..scim.conftest import make_scim, realm, scim  # noqa: F401 (shared SCIM fixtures)
