"""The answer to a request for a host this server does not serve.

Django checks the Host header against ALLOWED_HOSTS when something first asks for the host
(request.get_host(): CommonMiddleware on every request, SecurityMiddleware before it when it
redirects to HTTPS). It raises DisallowedHost, a SuspiciousOperation, which Django's handler turns
into the answer of handler400 (and a log line on "django.security.DisallowedHost"). That answer
says which setting decides, so whoever deploys can fix it from the response alone.
"""

import re

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, JsonResponse

from taskapi.core import views
from taskapi.core.errors import problem, problem_response

# The Host header is the client's to choose. It is repeated only when it is a plain host name or
# [IPv6] address with an optional port, and no longer than a DNS name can be: never markup,
# control characters or a megabyte of text.
_PLAIN_HOST = re.compile(r"(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?", re.IGNORECASE)
HOST_MAX = 253 + len(":65535")
SERVED = "the hosts it serves are listed in its ALLOWED_HOSTS environment variable"


def host_not_served_detail(host: str | None) -> str:
    if host and len(host) <= HOST_MAX and _PLAIN_HOST.fullmatch(host):
        return f"This server does not serve the host '{host}': {SERVED}."
    return f"This server does not serve the host this request names: {SERVED}."


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler400: a host that is not served says so; any other 400 is views.bad_request's."""
    if isinstance(exception, DisallowedHost):
        # The header itself: USE_X_FORWARDED_HOST is off, so X-Forwarded-Host never decides.
        detail = host_not_served_detail(request.META.get("HTTP_HOST"))
        return problem_response(problem(status=400, detail=detail))
    return views.bad_request(request, exception)
