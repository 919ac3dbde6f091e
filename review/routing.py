"""Websocket routes of the review app."""

from django.urls import path

from review.consumers import QueueConsumer

websocket_urlpatterns = [path("ws/review/queue/", QueueConsumer.as_asgi())]
