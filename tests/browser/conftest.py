"""Playwright journeys in Debian's Chromium against pytest-django's live_server."""

import os
from pathlib import Path

import pytest
from django.conf import global_settings

from messaging.services import conversation_send
from tests.factories import UserFactory
from tests.servers import launch_uvicorn, server_env, wait_until_ready

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse the
# test's own database calls there. Only the browser tests need this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        # Never skip silently: a missing browser is a failed setup, not a passing suite.
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make test` (it installs it).")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def browser_context_args(browser_context_args, live_server):
    # The site's service worker (/sw.js) is kept out of the journeys that are not about it: it
    # would sit between the page and Playwright's request routing. tests/browser/
    # test_push_journey.py lets it in.
    return {**browser_context_args, "base_url": live_server.url, "service_workers": "block"}


@pytest.fixture(autouse=True)
def _short_timeouts(page):
    # Fail fast: a missing element should fail in seconds, not after half a minute.
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(20_000)


# --- A real ASGI server (uvicorn), for journeys that need the event stream -------------------


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("asgi-media")


@pytest.fixture
def asgi_settings(settings, media_root):
    """The test and the server process write pin images to the same folder, and the server
    checks passwords with the real hashers, so the test must store them that way. Use it with
    `asgi_server` (pytest.mark.usefixtures)."""
    settings.MEDIA_ROOT = media_root
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, django_db_blocker, media_root):
    """uvicorn serving the app against the test database, for the module's tests; its base URL.
    pytest-django's live_server is WSGI and cannot hold an event stream open."""
    with django_db_blocker.unblock():
        env = server_env(media_root=media_root)
    server = launch_uvicorn(env=env, log_dir=media_root.parent)
    try:
        wait_until_ready(server)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture
def ada_and_bea(db):
    """Ada and Bea, in a conversation Ada started."""
    ada = UserFactory(username="ada", display_name="Ada Archer")
    bea = UserFactory(username="bea", display_name="Bea Baker")
    return ada, bea, conversation_send(sender=ada, recipients=[bea], text="Hi Bea").conversation
