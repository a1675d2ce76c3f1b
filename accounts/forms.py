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
