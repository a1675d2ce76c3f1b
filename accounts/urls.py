from django.urls import path

from accounts import views

urlpatterns = [
    path("settings/profile/", views.profile_edit, name="profile_edit"),
    path("settings/privacy/", views.privacy_settings, name="settings_privacy"),
    path("settings/blocked/", views.blocked_people, name="settings_blocked"),
    path("settings/delete/", views.delete_account, name="settings_delete_account"),
    path("users/<str:username>/block/", views.block, name="user_block"),
    path("users/<str:username>/unblock/", views.unblock, name="user_unblock"),
]
