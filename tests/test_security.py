"""Hardening: response headers and CSP, escaping of user text everywhere it appears, links,
`next=` redirects, the CSRF failure answer, and the media files our uploads become.

Image-pipeline attacks (disguised files, GIF bombs, huge dimensions) are in test_uploads.py."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from messaging import services as messaging
from messaging.services import Attachment
from pinboard.middleware import CSRF_FAILURE_HEADER
from pinboard.models import Pin
from tests.conftest import make_image_file
from tests.factories import (
    BoardFactory,
    CommentFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)
from tests.test_settings import load_settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# What an attacker types into every text field: a script element, and a quote that would end
# an attribute and start an event handler if it were not escaped.
PAYLOAD = '<script>alert(1)</script>"onmouseover="alert(2)'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&quot;alert(2)"


def assert_escaped(response, *, expect_shown: bool = True) -> None:
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert '"onmouseover="' not in page
    if expect_shown:  # the text is on the page, harmlessly
        assert ESCAPED in page or ESCAPED.replace("&quot;", "&#x27;") in page


# --- Headers ----------------------------------------------------------------------------------


def test_every_page_sends_the_security_headers(client):
    response = client.get(reverse("home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_the_csp_allows_only_our_scripts_with_this_requests_nonce(client):
    response = client.get(reverse("account_login"))
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"]).group(1)
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert scripts  # htmx and ours
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
    # htmx itself runs with eval off, so the policy needs no 'unsafe-eval'.
    assert '"allowEval": false' in response.content.decode()


def test_no_template_has_an_inline_script_or_handler_without_the_nonce():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert 'nonce="{{ csp_nonce }}"' in tag, f"{path}: {tag}"
        # Inline event handlers and htmx's hx-on / js: values need eval or unsafe-inline.
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert "hx-on" not in text, path
        assert "js:" not in text, path


def test_production_settings_turn_on_https_protections(monkeypatch):
    """`check --deploy` itself runs in tests/test_settings.py (no warnings at all); here, what
    the production environment turns on."""
    production = load_settings(
        monkeypatch, DEBUG="false", SECRET_KEY="s" * 60, ALLOWED_HOSTS="pins.example.com"
    )
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["CSRF_FAILURE_VIEW"] == "pinboard.middleware.csrf_failure"
    assert "pinboard.middleware.PermissionsPolicyMiddleware" in production["MIDDLEWARE"]


# --- Escaping ---------------------------------------------------------------------------------


@pytest.fixture
def hostile(db):
    """Everything a person can name or write, set to the payload."""
    mallory = UserFactory(username="mallory", display_name=PAYLOAD[:80], bio=PAYLOAD)
    ada = UserFactory(username="ada", display_name="Ada Lovelace")
    board = BoardFactory(owner=mallory, name=PAYLOAD[:50], description=PAYLOAD)
    pin = PinFactory(
        owner=mallory,
        board=board,
        title=f"velvet {PAYLOAD}",
        description=PAYLOAD,
        image=PinImageFactory(),
    )
    comment = CommentFactory(pin=pin, author=mallory, text=PAYLOAD)
    first = messaging.conversation_send(
        sender=mallory, recipients=[ada], text=PAYLOAD, attachment=Attachment(pin=pin)
    )
    conversation = first.conversation
    conversation.name = PAYLOAD[:80]
    conversation.save(update_fields=["name"])
    return SimpleNamespace(
        mallory=mallory, ada=ada, board=board, pin=pin, comment=comment, conversation=conversation
    )


@pytest.mark.parametrize(
    "page",
    [
        "profile",
        "board",
        "pin",
        "home",
        "search pins",
        "search people",
        "inbox",
        "conversation",
        "send dialog",
    ],
)
def test_user_text_is_escaped_on_every_page(page, hostile, client_for):
    client = client_for(hostile.ada)
    urls = {
        "profile": reverse("profile", args=["mallory"]),
        "board": reverse("board_detail", args=[hostile.board.pk]),
        "pin": reverse("pin_detail", args=[hostile.pin.pk]),
        "home": reverse("home"),
        "search pins": reverse("search") + "?q=velvet",
        "search people": reverse("search") + "?q=mallory",
        "inbox": reverse("inbox"),
        "conversation": reverse("conversation", args=[hostile.conversation.pk]),
        "send dialog": reverse("message_send_dialog") + f"?pin={hostile.pin.pk}",
    }
    assert_escaped(client.get(urls[page]))


def test_htmx_fragments_escape_user_text_too(hostile, client_for, htmx):
    client = client_for(hostile.ada)
    fragment = client.get(reverse("conversation", args=[hostile.conversation.pk]), **htmx)
    assert_escaped(fragment)
    dialog = client.get(reverse("message_send_dialog") + f"?pin={hostile.pin.pk}", **htmx)
    assert_escaped(dialog)


def test_admin_list_pages_escape_user_text(hostile, client):
    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert_escaped(client.get(url), expect_shown=False)
    detail = reverse("admin:pinboard_pin_change", args=[hostile.pin.pk])
    assert_escaped(client.get(detail))


# --- Links ------------------------------------------------------------------------------------


def test_descriptions_and_notes_are_not_turned_into_links(db, client_for):
    """Decision: descriptions, bios and message text are shown as plain text (escaped, line
    breaks kept), never linkified, so no `javascript:` (or any) link can be smuggled in."""
    mallory = UserFactory(username="mallory")
    ada = UserFactory(username="ada")
    text = "click javascript:alert(1) or https://example.com/x"
    board = BoardFactory(owner=mallory, description=text)
    pin = PinFactory(owner=mallory, board=board, description=text, image=PinImageFactory())
    conversation = messaging.conversation_send(sender=mallory, recipients=[ada], text=text)
    client = client_for(ada)
    for url in (
        reverse("pin_detail", args=[pin.pk]),
        reverse("board_detail", args=[board.pk]),
        reverse("conversation", args=[conversation.conversation_id]),
    ):
        page = client.get(url).content.decode()
        assert text in page
        assert 'href="javascript:' not in page
        assert 'href="https://example.com/x"' not in page


def test_a_pins_source_link_is_http_only_and_marked_as_user_content(db, client_for):
    owner = UserFactory(username="owner")
    board = BoardFactory(owner=owner, name="Ideas")
    client = client_for(owner)
    refused = client.post(
        reverse("pin_create"),
        {
            "image": make_image_file(name="a.png"),
            "title": "Bad link",
            "description": "",
            "source_url": "javascript:alert(1)",
            "board": board.pk,
        },
    )
    assert refused.status_code == 200
    assert not Pin.objects.filter(title="Bad link").exists()

    pin = PinFactory(
        owner=owner, board=board, source_url="https://example.com/idea", image=PinImageFactory()
    )
    page = client.get(reverse("pin_detail", args=[pin.pk])).content.decode()
    link = re.search(r'<a [^>]*href="https://example.com/idea"[^>]*>', page).group(0)
    assert 'rel="nofollow ugc noopener"' in link


# --- next= redirects --------------------------------------------------------------------------

EVIL = "https://evil.example/"


def test_login_never_redirects_to_another_site(db, client):
    UserFactory(username="ada", password="a-long-pass-phrase-9")
    url = reverse("account_login")
    for next_url in (EVIL, "//evil.example/", "https:evil.example", "/\\evil.example"):
        response = client.post(
            f"{url}?next={next_url}", {"login": "ada", "password": "a-long-pass-phrase-9"}
        )
        assert response.status_code == 302
        assert "evil.example" not in response["Location"], next_url
        client.logout()


def test_login_follows_next_on_our_own_site(db, client):
    UserFactory(username="ada", password="a-long-pass-phrase-9")
    response = client.post(
        reverse("account_login") + "?next=/search/",
        {"login": "ada", "password": "a-long-pass-phrase-9"},
    )
    assert response["Location"] == "/search/"


def test_blocking_with_a_foreign_next_goes_to_the_profile_instead(db, client_for):
    ada = UserFactory(username="ada")
    UserFactory(username="mallory")
    url = reverse("user_block", args=["mallory"])
    response = client_for(ada).post(f"{url}?next={EVIL}", {"next": EVIL})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


# --- The CSRF failure answer ------------------------------------------------------------------


def test_a_stale_csrf_token_is_a_marked_403_that_says_the_session_changed(db, htmx):
    ada = UserFactory(username="ada")
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    client.get(reverse("home"))  # gets a CSRF cookie
    response = client.post(
        reverse("board_create"), {"name": "Kept?"}, HTTP_X_CSRFTOKEN="stale" * 6, **htmx
    )
    assert response.status_code == 403
    assert response[CSRF_FAILURE_HEADER] == "1"
    assert "Your session changed — reload the page to continue." in response.content.decode()
    assert not ada.boards.filter(name="Kept?").exists()


def test_other_refusals_are_not_marked_as_csrf_failures(db, client_for, htmx):
    ada = UserFactory(username="ada")
    response = client_for(ada).post(reverse("board_create"), {"name": ""}, **htmx)
    assert CSRF_FAILURE_HEADER not in response
    assert client_for(ada).get("/admin/").get(CSRF_FAILURE_HEADER) is None


# --- Media ------------------------------------------------------------------------------------


def test_uploaded_images_are_served_as_webp_with_nosniff(db, client_for):
    owner = UserFactory(username="owner")
    board = BoardFactory(owner=owner, name="Ideas")
    upload = make_image_file(size=(80, 60), name="page.html")
    client = client_for(owner)
    client.post(
        reverse("pin_create"),
        {
            "image": upload,
            "title": "Served",
            "description": "",
            "source_url": "",
            "board": board.pk,
        },
    )
    pin = Pin.objects.select_related("image").get(title="Served")
    url = pin.image.file.url
    assert url.endswith(".webp")  # our name, never the uploaded one

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[8:12] == b"WEBP"


def test_the_readme_nginx_config_serves_media_with_nosniff():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    media_block = readme[readme.index("location /media/") :]
    media_block = media_block[: media_block.index("}")]
    assert "add_header X-Content-Type-Options nosniff;" in media_block
