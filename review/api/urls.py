from django.urls import path

from review.api import views

app_name = "review"

urlpatterns = [
    path("interpretations/", views.InterpretationSubmitApi.as_view(), name="interpretation-submit"),
    path("escalations/<int:escalation_id>/", views.EscalationDetailApi.as_view(), name="escalation-detail"),
    path("escalations/<int:escalation_id>/claim/", views.EscalationClaimApi.as_view(), name="escalation-claim"),
    path("escalations/<int:escalation_id>/decision/", views.EscalationDecisionApi.as_view(),
         name="escalation-decision"),
]
