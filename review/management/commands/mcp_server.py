from __future__ import annotations

import logging
import os
import sys

import anyio
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections


class Command(BaseCommand):
    help = ("Serve the site's agent tools over MCP on stdio (the official mcp SDK), acting as one agent key: "
            "every call is permissioned and witnessed like that agent's REST calls.")

    def add_arguments(self, parser):
        parser.add_argument("--key", default=os.environ.get("VIFSITE_MCP_KEY", ""),
                            help="The agent API key to act as (default: $VIFSITE_MCP_KEY).")

    def handle(self, *args, key: str, **options):
        if not key:
            raise CommandError("Give the agent key with --key or VIFSITE_MCP_KEY.")
        from mcp import types
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server

        from review import mcp as tools
        from vifsite.version import APP_VERSION

        agent_key = tools.authenticate(key)
        # stdout carries the protocol: everything else goes to stderr.
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, force=True)

        async def list_tools(ctx, params) -> types.ListToolsResult:
            return types.ListToolsResult(tools=[types.Tool(**tool) for tool in tools.tool_list()])

        def run_tool(name: str, arguments: dict) -> tuple[list[dict], bool]:
            # Each call runs in a worker thread, like a request: drop connections that broke or grew old.
            close_old_connections()
            try:
                return tools.call(name, arguments, agent_key)
            finally:
                close_old_connections()

        async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
            try:
                blocks, is_error = await anyio.to_thread.run_sync(run_tool, params.name, params.arguments or {})
            except Exception as exc:  # noqa: BLE001  a failing tool must never take the server down
                logging.getLogger("mcp_server").exception("tool %s failed", params.name)
                blocks, is_error = [{"type": "text", "text": f'{{"detail": "Internal error in {params.name}: '
                                                             f'{type(exc).__name__}"}}'}], True
            content: list[types.ContentBlock] = [
                types.TextContent(type="text", text=b["text"]) if b["type"] == "text" else
                types.ImageContent(type="image", data=b["data"], mime_type=b["mime_type"]) for b in blocks]
            return types.CallToolResult(content=content, is_error=is_error)

        server = Server("vifsite", version=APP_VERSION, instructions=(
            "Seismic data tools. Every number is computed from the data with provenance; check your claims with "
            "the validation tools and submit interpretations for the record."),
            on_list_tools=list_tools, on_call_tool=call_tool)

        async def main() -> None:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        anyio.run(main)
