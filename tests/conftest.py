"""Fixtures shared by every test: fast hashing, throwaway media, clients signed in as someone."""

import io

import pytest
from django.core.cache import cache
from django.core.management import ManagementUtility, call_command
from django.test import Client
from PIL import Image

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # Password hashing is deliberately slow in production; tests only need it to be correct.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    # Tasks run inside the request that enqueues them, so a test sees their effect at once.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """allauth's rate-limit counts live in the cache, a database table that neither rollback nor
    flush empties after transactional and browser tests: start each test that uses the database
    with none, so no count leaks from one test into another. (Ours live in accounts_ratecount,
    which rollback and flush do empty.)"""
    uses_db = "_django_db_helper" in request.fixturenames
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")  # pytest-django's database access for the test
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory(username="alice", display_name="Alice Archer")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob", display_name="Bob Baker")


@pytest.fixture
def client_for(db):
    """client_for(user) -> a test Client signed in as that user."""

    def make(person) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return make


def make_image_file(
    *, size=(64, 48), color=(200, 30, 40), image_format="PNG", name="image.png"
) -> io.BytesIO:
    """A real image file made with Pillow, named like an upload."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    buffer.seek(0)
    buffer.name = name
    return buffer


def pytest_collection_modifyitems(items):
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main
    # thread for the rest of the session, and the async (live stream) tests need their own.
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))


@pytest.fixture
def run_command():
    """Run a management command in-process; what it printed."""

    def run(command: str, *args: str) -> str:
        out = io.StringIO()
        call_command(command, *args, stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def command_exit_code():
    """The exit code `manage.py <argv>` ends with (run_from_argv turns CommandError into it)."""

    def exit_code(*argv: str) -> int:
        with pytest.raises(SystemExit) as exited:
            ManagementUtility(["manage.py", *argv]).execute()
        return exited.value.code

    return exit_code


@pytest.fixture
def htmx():
    """The header of a request htmx makes (`request.htmx` is true): `client.get(url, **htmx)`."""
    return {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def htmx_target(htmx):
    """htmx's headers naming the element the answer replaces: `**htmx_target("send-people")`."""
    return lambda target: {**htmx, "HTTP_HX_TARGET": target}
