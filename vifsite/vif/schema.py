"""How the OpenAPI schema describes agent authentication (loaded with the schema view, vifsite.api)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class AgentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "vifsite.vif.auth.AgentKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An agent key, sent as `Api-Key <key>` (manage.py create_agent_key)."}
