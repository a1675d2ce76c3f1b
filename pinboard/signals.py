"""What happened to boards and pins that other apps may want to tell people about.

pinboard may not import messaging (DESIGN.md §2), so its services announce events here, once
their transaction commits, and messaging's notifications listen (messaging/apps.py). Each signal
is sent with keyword arguments only, ids and rows already committed.
"""

from django.dispatch import Signal

# user saved (repinned) pin; saved_pin is the new copy on their board.
pin_saved = Signal()  # user, pin, saved_pin
# user liked pin (sent for every like request; receivers decide whether it is news).
pin_liked = Signal()  # user, pin
# comment was written on its pin.
pin_commented = Signal()  # comment
# inviter asked invitee to collaborate on board.
board_invited = Signal()  # board, inviter, invitee
# the invitee of membership accepted.
board_invitation_accepted = Signal()  # membership
