"""When PostgreSQL can't give us a connection (out of connections, restarting, unreachable), a
page fails fast with a friendly 503 that says to try again, and the site recovers by itself."""

import socket

import pytest
from django.db import connection

from pinboard.views.errors import server_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LIMITED_ROLE = "pinboard_no_connections"


@pytest.fixture(autouse=True)
def production_errors(settings):
    settings.DEBUG = False


@pytest.fixture
def database_refusing(request):
    """Point the site's connection somewhere that refuses it, then back."""
    original = dict(connection.settings_dict)

    def refuse(**changes):
        connection.close()
        connection.settings_dict.update(changes)

    yield refuse
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(original)


@pytest.fixture
def role_with_no_connections():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {LIMITED_ROLE}")
        cursor.execute(f"CREATE ROLE {LIMITED_ROLE} LOGIN CONNECTION LIMIT 0")
    yield LIMITED_ROLE
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {LIMITED_ROLE}")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_busy_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "busy for a moment" in response.content.decode()


def test_a_database_out_of_connections_answers_503_and_recovers(
    client_for, role_with_no_connections, database_refusing, htmx
):
    client = client_for(UserFactory())
    client.raise_request_exception = False  # as a real server: the handler answers
    database_refusing(USER=role_with_no_connections)

    assert_busy_page(client.get("/"))
    htmx = client.post("/messages/send/", {"text": "hi"}, **htmx)
    assert htmx.status_code == 503
    assert "What you typed is kept" in htmx["X-Pinboard-Error"]

    database_refusing(USER="postgres")
    assert client.get("/").status_code == 200


def test_an_unreachable_database_answers_503(client, database_refusing):
    client.raise_request_exception = False
    database_refusing(PORT=str(closed_port()))
    assert_busy_page(client.get("/"))


def test_any_other_failure_is_still_the_plain_500_page(rf):
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
