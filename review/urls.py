from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.queue_bulk, name="bulk"),
    path("calibration/", views.calibration_page, name="calibration"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("<int:escalation_id>/", views.item, name="item"),
    path("<int:escalation_id>/release/", views.release, name="release"),
    path("<int:escalation_id>/section.json", views.section_data, name="section-data"),
]
