from rest_framework.permissions import BasePermission

from vifsite.vif.auth import AgentPrincipal


class CanManageSurveys(BasePermission):
    """Staff people, or agent keys an admin allowed to import and register volumes."""

    message = "Importing or registering surveys needs a staff account or an agent key allowed to manage surveys."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, AgentPrincipal):
            return user.key.can_manage_surveys
        return bool(user and user.is_authenticated and user.is_staff)
