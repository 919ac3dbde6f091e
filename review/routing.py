"""Websocket routes of the review app (the live queue feed is added with the review workflow)."""

websocket_urlpatterns: list = []
