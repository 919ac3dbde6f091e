from django.urls import path

from vifsite.vif import views

app_name = "kappa"

urlpatterns = [
    path("", views.index, name="index"),
    path("suggestions.csv", views.index_csv, name="index-csv"),
    path("<int:suggestion_id>/", views.suggestion, name="suggestion"),
    path("<int:suggestion_id>/<slug:table>.csv", views.table_csv, name="table-csv"),
]
