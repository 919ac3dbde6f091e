from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class AgentKey(AbstractAPIKey):
    """An LLM agent's credential. Stored hashed (only the prefix is readable), may expire or be
    revoked. Its name identifies the agent as the principal of everything it requests."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_keys",
        help_text="The person responsible for this agent, if any.",
    )
    can_manage_surveys = models.BooleanField(
        default=False, help_text="May import SEG-Y files and register volumes through the API."
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "agent API key"
        verbose_name_plural = "agent API keys"

    @property
    def principal(self) -> str:
        return f"agent:{self.name}"
