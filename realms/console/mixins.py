"""What every console page shares."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from ..models import is_service_account


def console_login_url(login_url: str) -> str:
    """The host's LOGIN_URL; when that leads nowhere (a host that never set it keeps Django's default
    /accounts/login/ without a view behind it), the Django admin's login page, so the pages work out of the box."""
    if not login_url.startswith("/"):
        return login_url  # a URL name or an absolute URL: the host chose it
    try:
        resolve(login_url.split("?", 1)[0])
    except Resolver404:
        try:
            return reverse("admin:login")
        except NoReverseMatch:
            return login_url
    return login_url


class ConsoleMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Console page: login required, a Django permission required (403 without it), section and breadcrumbs."""

    section = ""

    def dispatch(self, request, *args, **kwargs):
        # A service account never uses the console, even with a session forged for it (its logins are refused).
        if is_service_account(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)

    def get_login_url(self) -> str:
        return console_login_url(super().get_login_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        context["breadcrumbs"] = self.get_breadcrumbs()
        return context

    def get_breadcrumbs(self) -> list[tuple[str, str | None]]:
        return []

    def paginate_queryset(self, queryset, page_size: int):
        """Any page number shows a page (list views): past the end, the last page, as when a list shrank since its
        link was made; not a number, the first. Never a bare 404."""
        paginator = self.get_paginator(
            queryset, page_size, orphans=self.get_paginate_orphans(), allow_empty_first_page=self.get_allow_empty()
        )
        number = self.request.GET.get(self.page_kwarg) or self.kwargs.get(self.page_kwarg) or 1
        page = paginator.get_page(paginator.num_pages if number == "last" else number)
        return paginator, page, page.object_list, page.has_other_pages()
