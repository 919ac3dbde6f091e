from django.urls import path

from vifsite.vif.api import views

app_name = "vif"

urlpatterns = [
    path("witnesses/", views.WitnessCreateApi.as_view(), name="witness-create"),
    path("witnesses/batch/", views.WitnessBatchApi.as_view(), name="witness-batch"),
    path("witnesses/<str:vif_id>/", views.WitnessDetailApi.as_view(), name="witness-detail"),
    path("witnesses/<str:vif_id>/outcome/", views.WitnessOutcomeApi.as_view(), name="witness-outcome"),
    path("witnesses/<str:vif_id>/replay/", views.WitnessReplayApi.as_view(), name="witness-replay"),
    path("gate/", views.GateApi.as_view(), name="gate"),
    path("kappa/", views.KappaPolicyListApi.as_view(), name="kappa-list"),
    path("ledger/key/", views.LedgerKeyApi.as_view(), name="ledger-key"),
    path("calibration/", views.CalibrationApi.as_view(), name="calibration"),
    path("calibration/reliability.png", views.ReliabilityPngApi.as_view(), name="reliability-png"),
    path("calibration/reliability.json", views.ReliabilityFigureApi.as_view(), name="reliability-figure"),
    path("metrics/", views.MetricsApi.as_view(), name="metrics"),
]
