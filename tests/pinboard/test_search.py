"""Search at /search/?q=: ranking, the visibility rules, people, pagination and query counts."""

import pytest
from django.urls import reverse

from pinboard.forms import SEARCH_MAX_LENGTH
from pinboard.models import BoardMember, Pin
from pinboard.services import pin_save
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("search")


@pytest.fixture
def image(db):
    """One real stored image shared by the pins of a test: making files is the slow part."""
    return PinImageFactory()


def found_pins(response) -> list[int]:
    return [pin.pk for pin in response.context["page"].items]


def found_boards(response) -> list[int]:
    return [board.pk for board in response.context["boards"]]


def found_people(response) -> list[str]:
    return [person.username for person in response.context["people"]]


# Ranking and language


def test_a_pin_with_the_word_in_its_title_ranks_above_one_with_it_only_in_its_description(
    client, image
):
    # The title match is the older pin, so newest-first order alone would put it second.
    in_title = PinFactory(image=image, title="Green velvet sofa", description="For the lounge")
    in_description = PinFactory(
        image=image, title="Living room", description="A corner with a green sofa"
    )

    response = client.get(SEARCH_URL, {"q": "sofa"})

    assert found_pins(response) == [in_title.pk, in_description.pk]


def test_words_match_other_forms_of_the_same_word(client, image):
    sofa = PinFactory(image=image, title="Sofa")
    PinFactory(image=image, title="Armchair")

    response = client.get(SEARCH_URL, {"q": "sofas"})

    assert found_pins(response) == [sofa.pk]


def test_a_board_is_found_by_its_name_and_shows_owner_and_pin_count(client, image):
    owner = UserFactory(display_name="Nora Ng")
    board = BoardFactory(owner=owner, name="Kitchen shelves")
    PinFactory.create_batch(2, board=board, image=image)
    BoardFactory(name="Garden")

    response = client.get(SEARCH_URL, {"q": "kitchens"})

    assert found_boards(response) == [board.pk]
    assert f'href="/boards/{board.pk}/"' in response.text
    assert "by Nora Ng · 2 pins" in response.text


# Visibility: search shows exactly what visible_to() lets the viewer see


VIEWERS = ["owner", "collaborator", "invited", "stranger", "anonymous"]
SEES_SECRET_CONTENT = {"owner", "collaborator"}


@pytest.mark.parametrize("is_secret", [False, True], ids=["public", "secret"])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_secret_boards_and_their_pins_are_found_only_by_owner_and_collaborators(
    client, client_for, image, viewer, is_secret
):
    board = BoardFactory(name="Lagoon trips", is_secret=is_secret)
    pin = PinFactory(board=board, image=image, title="Lagoon at sunset")
    people = {
        "owner": board.owner,
        "collaborator": BoardMemberFactory(board=board).user,
        "invited": BoardMemberFactory(board=board, status=BoardMember.Status.INVITED).user,
        "stranger": UserFactory(),
    }
    browser = client if viewer == "anonymous" else client_for(people[viewer])

    response = browser.get(SEARCH_URL, {"q": "lagoon"})

    expected_to_see = not is_secret or viewer in SEES_SECRET_CONTENT
    assert (found_pins(response) == [pin.pk]) is expected_to_see
    assert (found_boards(response) == [board.pk]) is expected_to_see
    assert ("Lagoon at sunset" in response.text) is expected_to_see
    assert ("Lagoon trips" in response.text) is expected_to_see


def test_a_public_pin_saved_to_a_secret_board_is_not_found_through_the_save(client_for, image):
    original = PinFactory(image=image, title="Terracotta tiles")
    saver = UserFactory()
    secret_board = BoardFactory(owner=saver, is_secret=True)
    saved = pin_save(user=saver, pin=original, board=secret_board)

    stranger_sees = found_pins(client_for(UserFactory()).get(SEARCH_URL, {"q": "terracotta"}))
    saver_sees = found_pins(client_for(saver).get(SEARCH_URL, {"q": "terracotta"}))

    assert stranger_sees == [original.pk]
    assert sorted(saver_sees) == sorted([original.pk, saved.pk])


# People


def test_people_are_found_by_username_prefix_or_display_name(client):
    UserFactory(username="marigold", display_name="Mary Gold")
    UserFactory(username="rosemary", display_name="Rose Thorn")
    UserFactory(username="basil", display_name="Basil Leaf")

    assert found_people(client.get(SEARCH_URL, {"q": "MARI"})) == ["marigold"]
    # "rosemary" contains "mary" but does not start with it: only display names match inside.
    assert found_people(client.get(SEARCH_URL, {"q": "mary"})) == ["marigold"]
    assert found_people(client.get(SEARCH_URL, {"q": "thorn"})) == ["rosemary"]


def test_a_found_person_shows_avatar_name_username_and_profile_link(client):
    UserFactory(username="marigold", display_name="Mary Gold")

    response = client.get(SEARCH_URL, {"q": "marigold"})

    assert 'href="/users/marigold/"' in response.text
    assert "Mary Gold" in response.text
    assert "@marigold" in response.text
    assert 'class="avatar avatar--md avatar--initial"' in response.text


def test_deactivated_people_are_not_found(client):
    UserFactory(username="marigold", is_active=False)
    UserFactory(username="marianne")

    assert found_people(client.get(SEARCH_URL, {"q": "mari"})) == ["marianne"]


# The page itself


def test_an_empty_search_shows_a_hint_and_queries_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(SEARCH_URL, {"q": "   "})

    assert response.status_code == 200
    assert "Type a word or two" in response.text
    assert "No results" not in response.text


def test_the_search_box_is_labelled_and_keeps_the_words(client):
    response = client.get(SEARCH_URL, {"q": "green sofa"})

    assert '<label id="search-form-label" for="id_q">What are you looking for?</label>' in (
        response.text
    )
    assert 'type="search" name="q" value="green sofa"' in response.text


def test_an_over_long_search_is_refused_with_a_clear_message(
    client, image, django_assert_num_queries
):
    PinFactory(image=image, title="Sofa")
    too_long = ("sofa " * 50)[: SEARCH_MAX_LENGTH + 1]

    with django_assert_num_queries(0):
        response = client.get(SEARCH_URL, {"q": too_long})

    assert "Searches can be at most 200 characters long (this one has 201)." in response.text
    assert 'aria-invalid="true"' in response.text
    assert found_pins(response) == []


def test_a_search_of_exactly_the_longest_length_still_runs(client, image):
    sofa = PinFactory(image=image, title="Sofa")
    longest = ("sofa " * 50)[:SEARCH_MAX_LENGTH]

    assert found_pins(client.get(SEARCH_URL, {"q": longest})) == [sofa.pk]


@pytest.mark.parametrize("q", ["the and of", '"-!:&|', "sofa\x00"])
def test_odd_searches_answer_calmly_instead_of_failing(client, image, q):
    PinFactory(image=image, title="Sofa")

    response = client.get(SEARCH_URL, {"q": q})

    assert response.status_code == 200
    assert found_pins(response) == []


def test_a_search_that_finds_nothing_says_so_and_escapes_the_words(client, image):
    PinFactory(image=image, title="Sofa")

    response = client.get(SEARCH_URL, {"q": "<b>zebra</b>"})

    assert "No results for “&lt;b&gt;zebra&lt;/b&gt;”." in response.text
    assert "<b>zebra" not in response.text


def test_each_section_is_a_labelled_region(client, image):
    UserFactory(username="sofabed")
    BoardFactory(name="Sofa ideas")
    PinFactory(image=image, title="Sofa")

    response = client.get(SEARCH_URL, {"q": "sofa"})

    for title in ["People", "Boards", "Pins"]:
        section_id = f"search-{title.lower()}-title"
        assert f'<section class="search-section" aria-labelledby="{section_id}">' in response.text
        assert f'<h2 id="{section_id}">{title}</h2>' in response.text


def test_the_nav_search_box_appears_on_the_home_page(client):
    response = client.get(reverse("home"))

    assert 'role="search"' in response.text
    assert f'action="{SEARCH_URL}"' in response.text


# Pagination: keyset on (rank, id)


@pytest.fixture
def thirty_ranked_pins(image) -> list[Pin]:
    """30 matching pins of two ranks, interleaved by age, in the order search must list them."""
    board = BoardFactory()
    title_matches, description_matches = [], []
    for n in range(15):
        title_matches.append(PinFactory(board=board, image=image, title=f"Sofa {n}"))
        description_matches.append(
            PinFactory(board=board, image=image, title=f"Room {n}", description="Sofa")
        )
    newest_first = reversed
    return [*newest_first(title_matches), *newest_first(description_matches)]


def test_the_next_page_is_an_htmx_fragment_that_continues_where_the_first_stopped(
    client, thirty_ranked_pins, htmx
):
    first = client.get(SEARCH_URL, {"q": "sofa"})
    next_url = first.context["next_url"]
    assert f'hx-get="{next_url.replace("&", "&amp;")}"' in first.text

    fragment = client.get(next_url, **htmx)

    assert "<html" not in fragment.text
    assert fragment.text.count('class="pin-card"') == 5
    assert found_pins(first) + found_pins(fragment) == [pin.pk for pin in thirty_ranked_pins]
    assert "hx-get" not in fragment.text  # the last page offers no more


def test_without_javascript_the_next_page_is_a_full_page_of_pins_only(client, thirty_ranked_pins):
    UserFactory(username="sofalover")
    first = client.get(SEARCH_URL, {"q": "sofa"})
    assert found_people(first) == ["sofalover"]

    second = client.get(first.context["next_url"])

    assert "<html" in second.text
    assert found_pins(second) == [pin.pk for pin in thirty_ranked_pins[25:]]
    assert found_people(second) == []


def test_a_malformed_cursor_starts_from_the_first_page(client, thirty_ranked_pins):
    response = client.get(SEARCH_URL, {"q": "sofa", "cursor": "nan_12"})

    assert found_pins(response) == [pin.pk for pin in thirty_ranked_pins[:25]]


# Bounded queries


@pytest.mark.parametrize("size", [3, 30])
def test_the_search_page_costs_the_same_queries_for_3_or_30_results(
    client_for, user, image, size, django_assert_num_queries
):
    for n in range(size):
        owner = UserFactory(username=f"sofa{n}")
        board = BoardFactory(owner=owner, name=f"Sofa board {n}", is_secret=n % 2 == 0)
        BoardMemberFactory(board=board, user=user)
        PinFactory(board=board, image=image, title=f"Sofa {n}")
    browser = client_for(user)

    # Session, user, people, boards, pins, the nav's unread total.
    with django_assert_num_queries(6):
        response = browser.get(SEARCH_URL, {"q": "sofa"})

    assert len(found_pins(response)) == min(size, 25)
    assert len(found_boards(response)) == min(size, 12)
    assert len(found_people(response)) == min(size, 12)
