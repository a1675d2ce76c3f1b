"""Someone uploads a pin: picks (or drops) an image, sees it at once, fixes a mistake without
choosing the file again, and lands on the board with the new pin on it."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pinboard-demo"


def png_bytes(size=(480, 640), color=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "lemon-tart.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def board(live_server):
    person = UserFactory(username="dana", display_name="Dana Diaz")
    return BoardFactory(owner=person, name="Recipes")


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def open_create_page(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Create").click()
    expect(page.get_by_role("heading", name="Create a pin")).to_be_visible()


def expect_preview(page: Page) -> None:
    preview = page.get_by_role("img", name="Preview of the chosen image")
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))


def chosen_files(page: Page) -> int:
    return page.get_by_label("Image", exact=True).evaluate("input => input.files.length")


def test_upload_a_pin_and_see_it_on_the_board(page: Page, board, photo):
    log_in(page, "dana")
    open_create_page(page)

    page.get_by_label("Image", exact=True).set_input_files(photo)
    expect_preview(page)
    page.get_by_label("Title").fill("Lemon tart")
    page.get_by_label("Description").fill("Crisp pastry, sharp curd.")
    page.get_by_role("combobox", name="Board").select_option(label="Recipes")
    page.get_by_role("button", name="Create pin").click()

    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"))
    expect(page.get_by_text("Pin saved to Recipes.")).to_be_visible()
    card = page.locator(".pin-card", has_text="Lemon tart")
    expect(card).to_be_visible()
    # The grid rendition was made on upload and is served: the browser decoded it.
    image = card.get_by_role("img", name="Lemon tart")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 236


def test_a_mistake_is_fixed_without_choosing_the_image_again(page: Page, board, photo):
    log_in(page, "dana")
    open_create_page(page)

    page.get_by_label("Image", exact=True).set_input_files(photo)
    page.get_by_label("Description").fill("Kept while I fix the title")
    page.get_by_role("combobox", name="Board").select_option(label="Recipes")
    page.get_by_role("button", name="Create pin").click()

    expect(page.get_by_text("Give your pin a title.")).to_be_visible()
    expect(page.get_by_label("Title")).to_be_focused()
    expect(page.get_by_label("Description")).to_have_value("Kept while I fix the title")
    expect_preview(page)
    assert chosen_files(page) == 1

    page.get_by_label("Title").fill("Lemon tart")
    page.get_by_role("button", name="Create pin").click()

    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"))
    expect(page.locator(".pin-card", has_text="Lemon tart")).to_be_visible()


def test_an_image_chosen_before_the_page_script_loads_still_gets_its_preview(
    page: Page, board, photo
):
    # A slow connection: the page is usable (and a file can be picked) before its script arrives.
    held = []
    page.route("**/pin-upload*.js", lambda route: held.append(route))
    log_in(page, "dana")
    page.goto("/pins/new/", wait_until="commit")
    page.get_by_label("Image", exact=True).set_input_files(photo)
    for _ in range(100):  # the script was requested while the page was parsed
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked for its upload script"
    expect(page.get_by_role("img", name="Preview of the chosen image")).to_be_hidden()
    held[0].continue_()

    expect_preview(page)


def test_an_image_dropped_on_the_drop_zone_is_chosen_and_previewed(page: Page, board):
    log_in(page, "dana")
    open_create_page(page)

    dropped = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"});
            transfer.items.add(file);
            return transfer;
        }""",
        list(png_bytes(size=(300, 200))),
    )
    zone = page.locator("[data-drop-zone]")
    for event in ("dragenter", "dragover", "drop"):
        zone.dispatch_event(event, {"dataTransfer": dropped})

    expect_preview(page)
    assert chosen_files(page) == 1
    expect(page.get_by_label("Image", exact=True)).to_be_focused()


def test_someone_without_boards_creates_one_with_their_first_pin(page: Page, live_server, photo):
    UserFactory(username="erin")
    log_in(page, "erin")
    open_create_page(page)

    page.get_by_label("Image", exact=True).set_input_files(photo)
    page.get_by_label("Title").fill("Lemon tart")
    page.get_by_label("New board name").fill("Baking")
    page.get_by_label("Keep the new board secret").check()
    page.get_by_role("button", name="Create pin").click()

    expect(page.get_by_role("heading", name=re.compile(r"^Baking"))).to_be_visible()
    expect(page.get_by_text("Pin saved to Baking.")).to_be_visible()
    expect(page.locator(".pin-card", has_text="Lemon tart")).to_be_visible()


def test_a_slow_upload_shows_its_progress(page: Page, board, tmp_path):
    big = tmp_path / "noise.png"
    Image.effect_noise((700, 700), 90).convert("RGB").save(big, format="PNG")  # ~1.4 MB
    log_in(page, "dana")
    open_create_page(page)
    page.get_by_label("Image", exact=True).set_input_files(big)
    page.get_by_label("Title").fill("Static")
    page.get_by_role("combobox", name="Board").select_option(label="Recipes")
    # Chromium's own throttling: about half a megabyte a second upstream.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 500_000},
    )

    page.get_by_role("button", name="Create pin").click()

    progress = page.get_by_role("progressbar", name="Uploading your image")
    expect(progress).to_be_visible()
    expect(page.get_by_role("button", name="Create pin")).to_be_disabled()
    # Part-way: a real fraction, not just "busy" (indeterminate) or "done".
    page.wait_for_function(
        "() => { const bar = document.getElementById('pin-upload-progress');"
        " return Boolean(bar) && bar.hasAttribute('value') && bar.value > 0 && bar.value < 100; }"
    )
    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"), timeout=20_000)


def test_the_owner_edits_a_pin_then_deletes_it_from_a_dialog(page: Page, board):
    pin = PinFactory(owner=board.owner, board=board, title="Lemon tart")
    log_in(page, "dana")
    page.goto(f"/pins/{pin.pk}/edit/")

    page.get_by_label("Title").fill("Lime tart")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Pin updated.")).to_be_visible()

    page.goto(f"/pins/{pin.pk}/edit/")
    page.get_by_role("link", name="Delete pin").click()
    dialog = page.get_by_role("dialog", name="Delete this pin?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Saves other people made of it stay.")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("link", name="Delete pin").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete pin").click()

    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"))
    expect(page.get_by_text("Pin deleted from Recipes.")).to_be_visible()
    expect(page.locator(".pin-card", has_text="Lime tart")).to_have_count(0)
