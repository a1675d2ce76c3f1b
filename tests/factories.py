"""factory-boy factories for every model, shared by the tests and `manage.py seed_demo`."""

import functools
import io

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from PIL import Image

from accounts.models import Block, Follow, User
from pinboard.images import normalize_pin_upload, pin_image_store
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    display_name = factory.Faker("name")
    password = factory.django.Password(settings.DEMO_PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """A verified primary email, so the person can log in (pass verified=False to skip)."""
        if create and extracted is not False:
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )


@functools.cache
def make_normalized_image(*, size=(300, 400), color=(180, 40, 60)):
    """A real image, made with Pillow and run through the upload pipeline (cached: the result
    is immutable, and re-encoding the same picture for every test only costs time)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    buffer.seek(0)
    return normalize_pin_upload(buffer)


class PinImageFactory(factory.django.DjangoModelFactory):
    """A stored image with its renditions (real files under MEDIA_ROOT)."""

    class Meta:
        model = PinImage

    size = (300, 400)
    color = (180, 40, 60)

    @classmethod
    def _create(cls, model_class, *args, size, color, **kwargs):
        return pin_image_store(make_normalized_image(size=size, color=color))


class BoardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Board

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Board {n}")
    description = ""
    is_secret = False


class PinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pin

    board = factory.SubFactory(BoardFactory)
    owner = factory.LazyAttribute(lambda o: o.board.owner)
    image = factory.SubFactory(PinImageFactory)
    title = factory.Sequence(lambda n: f"Pin {n}")
    description = ""


class BoardMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardMember

    board = factory.SubFactory(BoardFactory)
    user = factory.SubFactory(UserFactory)
    status = BoardMember.Status.ACCEPTED
    invited_by = factory.LazyAttribute(lambda o: o.board.owner)


class LikeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Like

    pin = factory.SubFactory(PinFactory)
    user = factory.SubFactory(UserFactory)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    pin = factory.SubFactory(PinFactory)
    author = factory.SubFactory(UserFactory)
    text = factory.Sequence(lambda n: f"Comment {n}")


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follow

    follower = factory.SubFactory(UserFactory)
    followee = factory.SubFactory(UserFactory)


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


class BoardFollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoardFollow

    user = factory.SubFactory(UserFactory)
    board = factory.SubFactory(BoardFactory)


# --- Messaging --------------------------------------------------------------------------------
# Models named by label, so that this module keeps importing only from accounts and pinboard at
# the top. These make rows directly; tests of behaviour go through messaging.services.


def _message_kind(message) -> str:
    if message.pin is not None:
        return "pin"
    if message.board is not None:
        return "board"
    if message.profile is not None:
        return "profile"
    return "text"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.Conversation"

    created_by = factory.SubFactory(UserFactory)
    name = ""


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "messaging.Participant"

    conversation = factory.SubFactory(ConversationFactory)
    user = factory.SubFactory(UserFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    """A message row (pass pin=, board= or profile= for a card; `kind` follows)."""

    class Meta:
        model = "messaging.Message"

    conversation = factory.SubFactory(ConversationFactory)
    sender = factory.SubFactory(UserFactory)
    text = factory.Sequence(lambda n: f"Message {n}")
    pin = None
    board = None
    profile = None
    kind = factory.LazyAttribute(_message_kind)


class ReportFactory(factory.django.DjangoModelFactory):
    """A report row (pass exactly one of pin=, comment=, profile=, message=; the default is a
    report about a new pin)."""

    class Meta:
        model = "messaging.Report"

    reporter = factory.SubFactory(UserFactory)
    reason = "spam"
    details = ""
    pin = factory.Maybe(
        factory.LazyAttribute(lambda o: not (o.comment or o.profile or o.message)),
        yes_declaration=factory.SubFactory(PinFactory),
        no_declaration=None,
    )
    comment = None
    profile = None
    message = None


class EventFactory(factory.django.DjangoModelFactory):
    """A live-update event row for one person (a new message in a conversation, by default)."""

    class Meta:
        model = "messaging.Event"

    message = factory.SubFactory(MessageFactory)
    conversation = factory.LazyAttribute(lambda o: o.message.conversation)
    user = factory.SubFactory(UserFactory)
    kind = "message.new"
