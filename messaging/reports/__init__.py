"""Reports of pins, comments, profiles and messages: services.py (what a person may report,
storing a report, and the three ways staff resolve it), views.py and urls.py (the report form,
under /messages/report/), admin.py (the staff's queue, registered by messaging/admin.py). The
Report model is in messaging/models.py."""
