"""What every console page shares."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin

from .models import is_service_account


class ConsoleMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Console page: login required, a Django permission required (403 without it), section and breadcrumbs."""

    section = ""

    def dispatch(self, request, *args, **kwargs):
        # A service account never uses the console, even with a session forged for it (its logins are refused).
        if is_service_account(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        context["breadcrumbs"] = self.get_breadcrumbs()
        return context

    def get_breadcrumbs(self) -> list[tuple[str, str | None]]:
        return []
