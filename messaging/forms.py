"""Input validation for messaging, with messages a person can act on."""

import re
import uuid

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from accounts.models import User
from messaging.models import (
    MAX_TEXT_LENGTH,
    NO_ATTACHMENT,
    Attachment,
    Conversation,
    Message,
    NotificationKind,
    Report,
    SecretContentRefused,
    max_participants,
)
from messaging.notifications import Channels
from pinboard.models import Board, Pin


class QuickReplyForm(forms.Form):
    """A text reply from an inbox row. The idempotency key is rendered with the form, so a
    double submit or a retried request sends one message."""

    text = forms.CharField(label="Reply", error_messages={"required": "Write a reply first."})
    idempotency_key = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "This form is out of date. Reload the page and try again."},
    )

    def clean_text(self) -> str:
        return _check_length(self.cleaned_data["text"])


# --- The conversation page: the composer, a card's reply box, edits, managing people ----------

ATTACHABLE_PINS = 20
FORM_OUT_OF_DATE = "This form is out of date. Reload the page and try again."


def _check_length(text: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise forms.ValidationError(
            f"Messages can be up to {MAX_TEXT_LENGTH:,} characters; this one has {len(text):,}.",
            code="too_long",
        )
    return text


class MessageTextField(forms.CharField):
    """Message text, its line breaks counted as the browser counts them: a textarea submits
    each line break as CRLF, while its maxlength (and our limit) count one character."""

    def __init__(self, **kwargs):
        attrs = {"rows": 2, "maxlength": MAX_TEXT_LENGTH}
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class MessageForm(forms.Form):
    """A message from the composer or from a card's reply box: text, and optionally one of the
    sender's own pins or boards, and the message it answers. The idempotency key is rendered
    with the form, so a double submit or a retried request sends one message."""

    text = MessageTextField(label="Message", required=False)
    attachment = forms.CharField(label="Attach", required=False, widget=forms.Select)
    reply_to = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    idempotency_key = forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput,
        error_messages={"invalid": FORM_OUT_OF_DATE},
    )

    def __init__(self, *args, user: User, conversation: Conversation, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.conversation = conversation
        # Set when the send was refused because someone can't see a secret pin or board.
        self.secret_refusal: SecretContentRefused | None = None
        # Read only when the select is rendered (a reply box never renders it).
        self.fields["attachment"].widget.choices = lambda: self.attachment_choices

    @cached_property
    def attachment_choices(self) -> list:
        pins = list(
            Pin.objects.editable_by(self.user)
            .newest_first()
            .values_list("pk", "title")[:ATTACHABLE_PINS]
        )
        boards = list(
            Board.objects.filter(owner=self.user)
            .order_by(Lower("name"))
            .values_list("pk", "name", "is_secret")
        )
        choices = [("", "Nothing")]
        if pins:
            choices.append(("Your pins", [(f"pin:{pk}", title) for pk, title in pins]))
        if boards:
            boards = [
                (f"board:{pk}", f"{name} (secret)" if secret else name)
                for pk, name, secret in boards
            ]
            choices.append(("Your boards", boards))
        return choices

    @property
    def reply_to_pk(self) -> int | None:
        """The message a reply box answered, as submitted (errors are shown in that box)."""
        raw = str(self.data.get("reply_to", "")) if self.is_bound else ""
        return int(raw) if raw.isdigit() else None

    def clean_text(self) -> str:
        return _check_length(self.cleaned_data["text"].strip())

    def clean_attachment(self) -> Attachment:
        value = self.cleaned_data["attachment"]
        if not value:
            return NO_ATTACHMENT
        kind, _, pk = value.partition(":")
        attachment = None
        if kind == "pin" and pk.isdigit():
            pins = Pin.objects.editable_by(self.user).select_related("board")
            pin = pins.filter(pk=pk).first()
            attachment = pin and Attachment(pin=pin)
        elif kind == "board" and pk.isdigit():
            board = Board.objects.filter(owner=self.user, pk=pk).first()
            attachment = board and Attachment(board=board)
        if not attachment:
            raise forms.ValidationError(
                "Choose one of your pins or boards to attach.", code="invalid_attachment"
            )
        return attachment

    def clean_reply_to(self) -> Message | None:
        pk = self.cleaned_data["reply_to"]
        if pk is None:
            return None
        message = Message.objects.filter(conversation=self.conversation, pk=pk).first()
        if message is None:
            raise forms.ValidationError(
                "The message you replied to is no longer here.", code="invalid_reply"
            )
        return message

    def clean(self):
        cleaned = super().clean()
        attachment = cleaned.get("attachment", NO_ATTACHMENT)
        if not self.errors and not cleaned.get("text") and attachment is NO_ATTACHMENT:
            self.add_error("text", forms.ValidationError("Write a message first.", code="empty"))
        return cleaned

    def add_send_error(self, exc: ValidationError | PermissionDenied) -> None:
        """Show why messaging.services.message_send refused the send, next to the field it is
        about."""
        if isinstance(exc, SecretContentRefused):
            self.secret_refusal = exc
            self.add_error(None, exc)
        elif isinstance(exc, ValidationError):
            field = "text" if exc.code in ("empty", "too_long") else None
            self.add_error(field, exc)
        else:
            self.add_error(None, str(exc) or "You can't send that here.")


class MessageEditForm(forms.Form):
    text = MessageTextField(
        label="Edit your message", error_messages={"required": "Write a message first."}
    )

    def clean_text(self) -> str:
        return _check_length(self.cleaned_data["text"].strip())


class AddPeopleForm(forms.Form):
    usernames = forms.CharField(
        label="Add people",
        max_length=500,
        help_text="Their usernames, separated by commas or spaces. They will see the whole "
        "conversation.",
        error_messages={"required": "Type at least one username."},
    )

    def clean_usernames(self) -> list[User]:
        raw = self.cleaned_data["usernames"]
        names = list(dict.fromkeys(
            name.lower() for name in (part.strip().lstrip("@") for part in re.split(r"[\s,]+", raw))
            if name
        ))  # fmt: skip
        if not names:
            raise forms.ValidationError("Type at least one username.", code="required")
        people = list(
            User.objects.active().annotate(lower=Lower("username")).filter(lower__in=names)
        )
        found = {person.lower for person in people}
        unknown = [name for name in names if name not in found]
        if unknown:
            listed = ", ".join(f"“{name}”" for name in unknown)
            raise forms.ValidationError(
                f"No one here is called {listed}. Check the spelling.", code="unknown"
            )
        return sorted(people, key=lambda person: names.index(person.lower))  # as typed


class RenameConversationForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=80,
        required=False,
        help_text="Leave it empty to show everyone's names instead.",
        error_messages={"max_length": "Names can be up to 80 characters."},
    )


# --- The Send dialog: a pin, board or profile to 1-9 people or into a recent conversation ------


class PeopleField(forms.ModelMultipleChoiceField):
    """People to send to, from the queryset the form sets (active people other than the sender).
    The count is checked before the database is asked, so a forged list of thousands of ids
    costs nothing."""

    max_count = 9

    def clean(self, value):
        if value and not isinstance(value, str) and len(set(value)) > self.max_count:
            raise ValidationError(
                f"You can send to up to {self.max_count} people at once.", code="too_many"
            )
        return super().clean(value)


class SendForm(forms.Form):
    """Send something to people picked in the dialog, or into one of the sender's recent
    conversations (whose Send button submits `conversation`; then `to` is not needed)."""

    to = PeopleField(
        queryset=User.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": "Someone you chose can't be messaged. Choose again.",
            "invalid_pk_value": "Someone you chose can't be messaged. Choose again.",
        },
    )
    conversation = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    note = MessageTextField(
        label="Add a note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_TEXT_LENGTH}),
    )
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"required": FORM_OUT_OF_DATE, "invalid": FORM_OUT_OF_DATE},
    )

    def __init__(self, *args, sender: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = User.objects.active().exclude(pk=sender.pk)
        self.fields["to"].max_count = max_participants() - 1

    def clean_note(self) -> str:
        return _check_length(self.cleaned_data["note"].strip())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("conversation"):  # a recent conversation's Send: the boxes don't count
            self.errors.pop("to", None)
            cleaned["to"] = []
        elif "to" not in self.errors and not cleaned.get("to"):
            self.add_error(
                "to", forms.ValidationError("Choose at least one person.", code="required")
            )
        return cleaned

    @cached_property
    def key(self) -> uuid.UUID:
        """The idempotency key to render: the one submitted (or given as initial) while it is
        valid, else a new one. A refused send stored nothing, so trying again with the same key
        is still one message."""
        try:
            return self.fields["idempotency_key"].clean(self["idempotency_key"].value())
        except ValidationError:
            return uuid.uuid4()


# --- Reports (messaging/reports/views.py) ------------------------------------------------------

REPORT_DETAILS_MAX = Report._meta.get_field("details").max_length


class ReportForm(forms.Form):
    """Why something is reported: a reason from the list, and optional details."""

    reason = forms.ChoiceField(
        label="Why are you reporting this?",
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a reason.",
            "invalid_choice": "Choose one of the reasons listed.",
        },
    )
    details = forms.CharField(
        label="Anything else we should know?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REPORT_DETAILS_MAX}),
    )

    def clean_details(self) -> str:
        # A textarea submits each line break as CRLF; its maxlength counts one character.
        details = self.cleaned_data["details"].replace("\r\n", "\n").strip()
        if len(details) > REPORT_DETAILS_MAX:
            raise forms.ValidationError(
                f"Details can be up to {REPORT_DETAILS_MAX:,} characters; "
                f"yours have {len(details):,}.",
                code="too_long",
            )
        return details


class NotificationSettingsForm(forms.Form):
    """/settings/notifications/: per kind, in app / email / push; for new messages also when the
    email comes. Fields are named `<kind>-<channel>`; the page lays them out as a table."""

    CHANNELS = (("in_app", "In app"), ("email", "Email"), ("push", "Push"))
    SOON, DIGEST = "soon", "digest"
    message_email = forms.ChoiceField(
        choices=[
            (SOON, "A couple of minutes after a message arrives"),
            (DIGEST, "A daily digest"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose when to email you about new messages.",
            "invalid_choice": "Choose when to email you about new messages: soon after, or a "
            "daily digest.",
        },
    )

    def __init__(self, *args, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message_email"].initial = (
            self.DIGEST if current[NotificationKind.MESSAGE].daily_digest else self.SOON
        )
        self.rows = []
        for kind in NotificationKind:
            cells = []
            for channel, label in self.CHANNELS:
                if not self.offered(kind, channel):
                    cells.append(None)
                    continue
                name = f"{kind.value}-{channel}"
                self.fields[name] = forms.BooleanField(
                    required=False,
                    label=f"{label} for {kind.label}",
                    initial=getattr(current[kind], channel),
                )
                cells.append(name)
            self.rows.append((kind, cells))
        self.current = current

    @staticmethod
    def offered(kind, channel) -> bool:
        # Messages live in the inbox, not the bell.
        return not (kind == NotificationKind.MESSAGE and channel == "in_app")

    def bound_rows(self):
        """(kind label, [bound field or None per channel]) for the template."""
        return [
            (kind, [self[name] if name else None for name in cells]) for kind, cells in self.rows
        ]

    def choices(self) -> dict:
        """Each kind's channels as chosen (what the page does not offer keeps its value)."""
        data = self.cleaned_data
        result = {}
        for kind in NotificationKind:
            kept = self.current[kind]
            values = {
                channel: data[f"{kind.value}-{channel}"]
                if self.offered(kind, channel)
                else getattr(kept, channel)
                for channel, _ in self.CHANNELS
            }
            digest = kind == NotificationKind.MESSAGE and data["message_email"] == self.DIGEST
            result[kind.value] = Channels(**values, daily_digest=digest)
        return result
