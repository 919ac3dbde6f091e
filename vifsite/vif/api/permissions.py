from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from vifsite.vif.auth import AgentPrincipal


class IsPersonOrOutcomeKey(BasePermission):
    message = "Only people and agent keys allowed to record outcomes may label witnesses."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if isinstance(user, AgentPrincipal):
            return user.key.can_record_outcomes
        return bool(user and user.is_authenticated)


class IsPersonOrMetricsKey(BasePermission):
    message = "Metrics are for people and metrics keys."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if isinstance(user, AgentPrincipal):
            return user.key.can_read_metrics
        return bool(user and user.is_authenticated)


class IsStaffOrMetricsKey(BasePermission):
    message = "The Prometheus endpoint is for staff and metrics keys."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if isinstance(user, AgentPrincipal):
            return user.key.can_read_metrics
        return bool(user and user.is_authenticated and user.is_staff)
