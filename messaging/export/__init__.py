"""The "Download my data" export: archive.py (a person's data as a zip, also behind
`manage.py export_user`), views.py and urls.py (the settings page /settings/data/, included at
the site root by pinboard/urls.py)."""
