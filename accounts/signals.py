"""What happened to people that other apps may want to tell them about.

accounts imports no other app (DESIGN.md §2): its services send these once their transaction
commits, and messaging's notifications listen (messaging/apps.py).
"""

from django.dispatch import Signal

# follower now follows followee (sent for every follow request; receivers decide if it is news).
user_followed = Signal()  # follower, followee
