"""Console authentication backend that refuses service accounts everywhere a password or session is checked."""

from django.contrib.auth.backends import ModelBackend


class ConsoleModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        # Used for password login (console, admin) and for restoring a session (get_user):
        # a service account is refused in both, so even a forged session cannot act as one.
        if getattr(user, "is_service_account", False):
            return False
        return super().user_can_authenticate(user)
