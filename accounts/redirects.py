"""Where a redirect may lead: only to our own site (never `next=https://evil.example/`)."""

from django.utils.http import url_has_allowed_host_and_scheme


def own_site_url(request, url: str, default: str) -> str:
    """`url` when it points at this site (a path, or this host over the request's scheme),
    else `default`."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
