"""A minimal authenticated API endpoint: lets a client check its token, and is the benchmarks' floor."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realms.authentication import APITokenAuthentication
from realms.models import is_service_account


class WhoAmIView(APIView):
    # Declared here, not taken from the host's REST_FRAMEWORK defaults (which may name other classes).
    authentication_classes = [APITokenAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    versioning_class = None

    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            {
                "username": request.user.get_username(),
                "is_service_account": is_service_account(request.user),
                "token": {"name": token.name, "hint": token.hint, "expires_at": token.expires_at},
            }
        )
