from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path

from vifsite import views
from vifsite.api import SchemaApi
from vifsite.vif.api.views import PrometheusApi

admin.autodiscover()  # here rather than at start-up (vifsite/admin_apps.py)

api_v1: list[URLPattern | URLResolver] = [
    path("", include("seismic.api.urls")),
    path("", include("vifsite.vif.api.urls")),
    path("", include("review.api.urls")),
    path("schema/", login_not_required(SchemaApi.as_view()), name="schema"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", views.Login.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.home, name="home"),
    path("api/v1/", include((api_v1, "api"))),
    path("metrics", PrometheusApi.as_view(), name="prometheus"),
    path("review/", include("review.urls")),
    path("kappa/", include("vifsite.vif.urls")),
    path("", include("seismic.urls")),
]

# JSON under /api/ and at /metrics, the HTML pages elsewhere (Django's own 400s come from its request size checks).
handler400 = "vifsite.api.bad_request"
handler403 = "vifsite.api.permission_denied"
handler404 = "vifsite.api.page_not_found"
handler500 = "vifsite.api.server_error"
