"""Input validation for boards and pins, with messages a person can act on."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.functional import cached_property

from accounts.forms import IMAGE_ACCEPT
from accounts.images import EMPTY_MESSAGE
from pinboard.images import ImageRejected, normalize_pin_upload
from pinboard.models import Board, Comment, Pin


class BoardForm(forms.ModelForm):
    class Meta:
        model = Board
        fields = ["name", "description", "is_secret"]
        labels = {"is_secret": "Keep this board secret"}
        help_texts = {
            "is_secret": (
                "Only you and your collaborators will see this board and its pins. Pins are "
                "public or secret through their board: a secret board's pins appear nowhere else "
                "— not in feeds, search or your profile."
            )
        }
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "Like “Places to go” or “Recipes”"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {"name": {"required": "Give your board a name."}}


class PinBoardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, board: Board) -> str:
        return f"{board.name} (secret)" if board.is_secret else board.name


class PinForm(forms.ModelForm):
    """Create or edit a pin. Creating asks for the image, and the board may be a new one named
    here (the view creates it in the same transaction as the pin); editing asks for neither."""

    image = forms.FileField(
        label="Image",
        help_text="JPEG, PNG, GIF or WebP, up to 20 MB.",
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
        error_messages={"required": "Choose an image for your pin.", "empty": EMPTY_MESSAGE},
    )
    board = PinBoardChoiceField(
        queryset=Board.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your boards."},
    )
    new_board_name = forms.CharField(
        label="New board name",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Like “Places to go” or “Recipes”"}),
    )
    new_board_secret = forms.BooleanField(label="Keep the new board secret", required=False)

    class Meta:
        model = Pin
        fields = ["title", "description", "source_url", "board"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        error_messages = {
            "title": {"required": "Give your pin a title."},
            "source_url": {"invalid": "Enter a full web address, like https://example.com/idea."},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        board = self.fields["board"]
        board.queryset = Board.objects.pinnable_by(user).order_by("name")
        # The select reads its options from one query, however often they are read (Django reads
        # them for the `required` attribute and again to render them).
        board.widget.choices = lambda: self.board_choices
        if self.instance.pk and self.instance.from_secret_board:
            # A save of a secret pin may only move between secret boards.
            board.queryset = board.queryset.filter(is_secret=True)
        if self.instance.pk:
            del self.fields["image"]
            del self.fields["new_board_name"]
            del self.fields["new_board_secret"]
        else:
            # Creating: an existing board or a new one, so the select starts with no choice.
            board.required = False
            board.empty_label = "Choose a board"

    @cached_property
    def board_choices(self) -> list:
        # iter(): list() would first ask the choices for their length, a COUNT query.
        return list(iter(self.fields["board"].choices))

    @property
    def has_boards(self) -> bool:
        """Whether the person has a board to choose (else the page offers only a new one)."""
        return any(value for value, _ in self.board_choices)

    def clean_image(self):
        try:
            return normalize_pin_upload(self.cleaned_data["image"])
        except ImageRejected as exc:
            raise forms.ValidationError(exc.message, code="invalid_image") from exc

    def clean_source_url(self) -> str:
        url = self.cleaned_data["source_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Only http:// and https:// links can be a pin's source.")
        return url

    def clean_new_board_name(self) -> str:
        return self.cleaned_data["new_board_name"].strip()

    def clean(self):
        cleaned = super().clean()
        if "new_board_name" not in self.fields or self.has_error("board"):
            return cleaned
        board, new_name = cleaned.get("board"), cleaned.get("new_board_name")
        if board and new_name:
            self.add_error(
                "new_board_name",
                forms.ValidationError(
                    "You chose a board and named a new one: clear one of them.",
                    code="two_boards",
                ),
            )
        elif not board and not new_name and not self.has_error("new_board_name"):
            message = (
                "Choose a board, or name a new one."
                if self.has_boards
                else "Name a board for your pin."
            )
            field = "board" if self.has_boards else "new_board_name"
            self.add_error(field, forms.ValidationError(message, code="no_board"))
        return cleaned


class SavePinForm(forms.Form):
    """Save (repin) to an existing board, or to a new one named here."""

    board = PinBoardChoiceField(queryset=Board.objects.none(), required=False, empty_label=None)
    new_board_name = forms.CharField(label="Or save to a new board", max_length=50, required=False)
    new_board_secret = forms.BooleanField(label="Make the new board secret", required=False)

    def __init__(self, *args, user, pin: Pin, **kwargs):
        super().__init__(*args, **kwargs)
        boards = Board.objects.pinnable_by(user).order_by("name")
        # A pin seen only through a secret board may only be saved to a secret board.
        self.secret_only = pin.board.is_secret
        if self.secret_only:
            boards = boards.filter(is_secret=True)
            self.fields["new_board_secret"].initial = True
            self.fields["new_board_secret"].disabled = True
            self.fields["new_board_secret"].help_text = "Pins from a secret board stay secret."
        self.fields["board"].queryset = boards

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("new_board_name", "").strip()
        if not cleaned.get("board") and not name:
            raise forms.ValidationError("Choose a board, or name a new one.", code="no_board")
        cleaned["new_board_name"] = name
        return cleaned


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["text"]
        labels = {"text": "Add a comment"}
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "maxlength": 500})}
        error_messages = {"text": {"required": "Write something first."}}


class InviteForm(forms.Form):
    username = forms.CharField(label="Invite by username", max_length=150)

    def __init__(self, *args, board: Board, **kwargs):
        super().__init__(*args, **kwargs)
        self.board = board

    def clean_username(self):
        username = self.cleaned_data["username"].strip().lstrip("@")
        person = get_user_model().objects.active().filter(username__iexact=username).first()
        if person is None:
            raise forms.ValidationError(f"No one is called “{username}” here.")
        if person.pk == self.board.owner_id:
            raise forms.ValidationError("That's you: you own this board already.")
        if self.board.memberships.filter(user=person).exists():
            raise forms.ValidationError(f"{person.name} is already invited to this board.")
        return person


SEARCH_MAX_LENGTH = 200


class SearchForm(forms.Form):
    """The words of /search/?q=. Too long (or containing NUL characters) means no search at all."""

    q = forms.CharField(
        label="What are you looking for?",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": (
                f"Searches can be at most {SEARCH_MAX_LENGTH} characters long "
                "(this one has %(show_value)d). Try a few words instead."
            ),
        },
        widget=forms.SearchInput(attrs={"autocomplete": "off"}),
    )
