"""A minimal authenticated API endpoint: lets a client check its token, and is the benchmarks' floor."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmIView(APIView):
    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            {
                "username": request.user.get_username(),
                "is_service_account": request.user.is_service_account,
                "token": {"name": token.name, "hint": token.hint, "expires_at": token.expires_at},
            }
        )
