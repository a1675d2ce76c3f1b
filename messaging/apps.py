from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self):
        # pinboard and accounts announce their events with signals (they may not import
        # messaging); the bell listens here. dispatch_uid: connected once, however often
        # ready() runs.
        from accounts import signals as account_signals
        from messaging import notifications
        from pinboard import signals as pin_signals

        for signal, receiver in [
            (account_signals.user_followed, notifications.on_user_followed),
            (pin_signals.pin_saved, notifications.on_pin_saved),
            (pin_signals.pin_liked, notifications.on_pin_liked),
            (pin_signals.pin_commented, notifications.on_pin_commented),
            (pin_signals.board_invited, notifications.on_board_invited),
            (pin_signals.board_invitation_accepted, notifications.on_board_invitation_accepted),
        ]:
            signal.connect(receiver, dispatch_uid=f"messaging.{receiver.__name__}")
