"""The live queue feed: logged-in users only (the ASGI router adds the origin check and the session)."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

GROUP = "review-queue"


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def queue_changed(self, event: dict) -> None:
        await self.send_json({"type": "queue.changed", "id": event["id"], "status": event["status"]})
