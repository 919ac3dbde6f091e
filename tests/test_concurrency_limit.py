"""The per-process concurrency limit: at most N HTTP requests inside the application at once, the rest
answered in arrival order; uploads and websockets are not held back."""

from __future__ import annotations

import asyncio

from vifsite.limits import UPLOAD_PATHS, ConcurrencyLimit


class Recorder:
    """An ASGI application that takes a while and notes how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.order: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.order.append(scope["path"])
        await asyncio.sleep(0.02)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app, path: str, kind: str = "http") -> int:
    answers: list[int] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            answers.append(message["status"])

    await app({"type": kind, "path": path, "method": "GET", "headers": []}, receive, send)
    return answers[0] if answers else 0


def test_at_most_the_limit_run_at_once_and_all_are_answered_in_order():
    inner = Recorder()
    app = ConcurrencyLimit(inner, 3)

    async def main():
        return await asyncio.gather(*(call(app, f"/r{i}") for i in range(12)))

    assert asyncio.run(main()) == [200] * 12
    assert inner.most == 3
    assert inner.order == [f"/r{i}" for i in range(12)]


def test_uploads_and_websockets_are_not_held_back_and_zero_means_no_limit():
    inner = Recorder()
    app = ConcurrencyLimit(inner, 1)

    async def main():
        await asyncio.gather(call(app, "/slow"), call(app, UPLOAD_PATHS[0]), call(app, "/ws", kind="websocket"))

    asyncio.run(main())
    assert inner.most == 3
    unlimited = Recorder()
    app = ConcurrencyLimit(unlimited, 0)

    async def many():
        await asyncio.gather(*(call(app, f"/{i}") for i in range(8)))

    asyncio.run(many())
    assert unlimited.most == 8
