"""WSGI entry point (gunicorn console.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

application = get_wsgi_application()

# Import every view and build the URL resolver now rather than on the first request (half a second of imports,
# SAML and SCIM included, paid by each worker's first caller). With gunicorn's preload_app the workers are
# forked warm and share that memory.
get_resolver().reverse_dict  # noqa: B018
