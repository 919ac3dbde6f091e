from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from vifsite.vif.models import AgentKey


@admin.register(AgentKey)
class AgentKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "owner", "can_manage_surveys"]
    list_filter = [*APIKeyModelAdmin.list_filter, "can_manage_surveys"]
