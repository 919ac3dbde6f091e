from django.urls import path

from seismic.api import views

app_name = "seismic"

urlpatterns = [
    path("surveys/", views.SurveyListApi.as_view(), name="survey-list"),
    path("surveys/imports/", views.SurveyImportCreateApi.as_view(), name="survey-import-create"),
    path("surveys/imports/<int:import_id>/", views.SurveyImportDetailApi.as_view(), name="survey-import-detail"),
    path("surveys/register/", views.SurveyRegisterApi.as_view(), name="survey-register"),
    path("surveys/<int:survey_id>/", views.SurveyDetailApi.as_view(), name="survey-detail"),
    path("surveys/<int:survey_id>/sections/<str:section_type>/<str:section_number>/",
         views.SectionApi.as_view(), name="section"),
    path("surveys/<int:survey_id>/sections/<str:section_type>/<str:section_number>/image.png",
         views.SectionImageApi.as_view(), name="section-image"),
    path("surveys/<int:survey_id>/validate-amplitude-claim/", views.ValidateClaimApi.as_view(),
         name="validate-claim"),
    path("surveys/<int:survey_id>/anomalies/", views.AnomaliesApi.as_view(), name="anomalies"),
    path("surveys/<int:survey_id>/verify-hypothesis/", views.VerifyHypothesisApi.as_view(), name="verify-hypothesis"),
    path("surveys/<int:survey_id>/compare/", views.CompareApi.as_view(), name="compare"),
    path("surveys/<int:survey_id>/structured-analysis/", views.StructuredAnalysisApi.as_view(),
         name="structured-analysis"),
    path("interpretations/audit/", views.AuditApi.as_view(), name="audit"),
    path("tools/", views.ToolManifestApi.as_view(), name="tools"),
]
