"""The ASGI entry point (pinboard/asgi.py): the stream path goes to the event stream, every other
path to Django's WSGI handler on a thread pool, with the body read before a thread is taken."""

import asyncio

import pytest
from django.urls import reverse

from pinboard import asgi


class Exchange:
    """One request played against the app, as the server would."""

    def __init__(self, path: str, *, method: str = "GET", body_parts=(b"",), vanish=False):
        self.scope = {
            "type": "http",
            "method": method,
            "path": path,
            "root_path": "",
            "query_string": b"",
            "http_version": "1.1",
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"127.0.0.1:8000")],
        }
        self.parts = list(body_parts)
        self.vanish = vanish
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.parts:
            part = self.parts.pop(0)
            more = bool(self.parts) or self.vanish
            return {"type": "http.request", "body": part, "more_body": more}
        if self.vanish:
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)  # a client that stays

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    async def run(self) -> None:
        await asyncio.wait_for(asgi.application(self.scope, self.receive, self.send), 10)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


@pytest.mark.asyncio
async def test_pages_are_served_by_django_through_the_asgi_server():
    exchange = Exchange("/accounts/login/")
    await exchange.run()
    assert exchange.status == 200
    assert b"Sign in" in exchange.body or b"Log in" in exchange.body


@pytest.mark.asyncio
async def test_a_client_gone_mid_upload_is_never_handed_to_a_page_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(asgi.application.pages, "wsgi", lambda *args: calls.append(args))
    exchange = Exchange("/pins/new/", method="POST", body_parts=[b"x" * 1000], vanish=True)
    await exchange.run()
    assert calls == []  # no thread taken, nothing answered
    assert exchange.sent == []


@pytest.mark.asyncio
async def test_the_stream_path_is_the_event_url_the_pages_link_to():
    assert asgi.application.stream_path == reverse("message_events")


@pytest.mark.django_db
def test_a_wsgi_server_asked_for_the_stream_says_there_is_none(client_for, user):
    # gunicorn or the test live_server can't hold a stream open: pages then poll.
    response = client_for(user).get(reverse("message_events"))
    assert response.status_code == 204
