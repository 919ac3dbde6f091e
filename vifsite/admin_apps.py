"""The admin, found when it is first needed rather than at every start of Django.

Django's AdminConfig imports every app's admin module when Django starts, and ours import the apps'
services and, through them, the numerical libraries: every command and task worker waited for them. Here
the modules are imported when the URLs load (vifsite/urls.py) or when the system checks look at the admin
(``Site.check``), whichever comes first, so ``manage.py check`` still checks every registered model."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig


class Site(admin.AdminSite):
    def check(self, app_configs: Any) -> list[Any]:
        admin.autodiscover()
        return super().check(app_configs)


class AdminConfig(SimpleAdminConfig):
    default_site = "vifsite.admin_apps.Site"

    def ready(self) -> None:
        super().ready()
        admin.site._setup()  # type: ignore[attr-defined]  # made now, so the checks find it in all_sites
