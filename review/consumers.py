"""The live queue feed: reviewers only, like the review pages (the ASGI router adds the origin check and the
session)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from review.services import is_reviewer

GROUP = "review-queue"


class QueueConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await database_sync_to_async(is_reviewer)(user):
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: object) -> None:
        """The feed only speaks: frames from the browser are dropped unread (the JSON consumer would parse
        them, and a few thousand nested brackets are a RecursionError)."""

    async def queue_changed(self, event: dict) -> None:
        await self.send_json({"type": "queue.changed", "id": event["id"], "status": event["status"]})
