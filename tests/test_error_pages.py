"""Error pages in production (DEBUG off): a 404 that says neither "missing" nor "forbidden",
and a 500 page that needs nothing (no user, no database) to show."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.factories import BoardFactory


@pytest.fixture(autouse=True)
def production_errors(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_a_missing_page_gets_our_404_with_the_way_home(client):
    response = client.get("/pins/987654321/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "find that page" in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_a_secret_board_looks_exactly_like_a_missing_one(client):
    secret = BoardFactory(is_secret=True, name="Surprise party plans")
    hidden = client.get(f"/boards/{secret.pk}/")
    missing = client.get("/boards/987654321/")
    assert hidden.status_code == missing.status_code == 404
    for response in (hidden, missing):
        html = response.content.decode()
        assert "find that page" in html
        assert "Surprise party" not in html


def test_the_500_page_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"app.css" in response.content
