from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.conf import settings

from accounts.images import ImageRejected, NormalizedImage, normalize_image
from accounts.models import User

AVATAR_SIZE = 400
IMAGE_ACCEPT = "image/jpeg,image/png,image/gif,image/webp"


class ProfileForm(forms.ModelForm):
    avatar_upload = forms.FileField(
        label="Avatar",
        required=False,
        help_text="JPEG, PNG, GIF or WebP. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    remove_avatar = forms.BooleanField(label="Remove my avatar", required=False)

    class Meta:
        model = User
        fields = ["display_name", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4, "maxlength": 500})}

    def clean_avatar_upload(self) -> NormalizedImage | None:
        upload = self.cleaned_data.get("avatar_upload")
        if not upload:
            return None
        try:
            return normalize_image(
                upload,
                max_bytes=settings.MAX_UPLOAD_BYTES,
                max_pixels=settings.MAX_IMAGE_PIXELS,
                square=AVATAR_SIZE,
            )
        except ImageRejected as exc:
            raise forms.ValidationError(exc.message, code="invalid_image") from exc


class LoginForm(AllauthLoginForm):
    """allauth's login form, with a label that says what may be typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"


class DeleteAccountForm(forms.Form):
    """Deleting an account cannot be undone: the person confirms with their password."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Type your password to confirm."},
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                "That is not your password. Nothing was deleted.", code="wrong_password"
            )
        return password


class MessagePrivacyForm(forms.Form):
    """Who can message me: everyone, people I follow, or nobody (the others' messages then
    arrive as requests)."""

    message_privacy = forms.ChoiceField(
        label="Who can message me",
        choices=User.MessagePrivacy.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who can message you.",
            "invalid_choice": "Choose one of the three options.",
        },
    )

    # What each choice means, shown under its radio button.
    explanations = {
        User.MessagePrivacy.EVERYONE: "Anyone can start a conversation with you or add you to one.",
        User.MessagePrivacy.FOLLOWING: "People you follow can message you. Messages from anyone "
        "else wait in your Requests until you accept them.",
        User.MessagePrivacy.NOBODY: "Every new conversation, and every group you're added to, "
        "waits in your Requests until you accept it.",
    }

    def options(self) -> list[dict]:
        """The radio buttons with their explanations, for the template."""
        return [
            {"radio": radio, "explanation": self.explanations[radio.data["value"]]}
            for radio in self["message_privacy"]
        ]
