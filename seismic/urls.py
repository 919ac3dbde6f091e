from django.urls import path

from seismic import views

app_name = "seismic"

urlpatterns = [
    path("", views.survey_list, name="survey-list"),
    path("surveys/<int:survey_id>/", views.survey_detail, name="survey-detail"),
    path("surveys/<int:survey_id>/sections/<str:kind>/<str:number>/plot.json", views.section_plot_data,
         name="section-plot-data"),
]
