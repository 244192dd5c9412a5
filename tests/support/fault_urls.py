"""Test-only routes that raise each kind of error the app can meet, for the error-shape tests.

Served only by a test server started with DJANGO_SETTINGS_MODULE=tests.support.fault_settings.
"""

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import include, path
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class RaiseView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "drf-forbidden":
            raise exceptions.PermissionDenied()
        if kind == "django-forbidden":
            raise PermissionDenied()
        if kind == "database-down":
            raise OperationalError("connection refused")
        if kind == "bug":
            raise RuntimeError("secret internal detail: /srv/app/settings.py line 42")
        raise exceptions.NotFound()


def plain_django_bug(request):
    raise RuntimeError("secret internal detail from a plain Django view")


urlpatterns = [
    path("_faults/<str:kind>/", RaiseView.as_view()),
    path("_faults-plain/", plain_django_bug),
    path("", include("taskapi.urls")),
]
