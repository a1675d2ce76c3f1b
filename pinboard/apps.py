from django.apps import AppConfig


class PinboardConfig(AppConfig):
    name = "pinboard"
    verbose_name = "Boards and pins"
