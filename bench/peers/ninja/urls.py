from django.urls import path

from bench.peers.ninja.api import api

urlpatterns = [path("", api.urls)]
