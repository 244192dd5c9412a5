from django.urls import include, path

urlpatterns = [
    path("", include("taskapi.core.urls")),
    path("auth/tokens/", include("taskapi.access_tokens.urls")),
    path("auth/", include("taskapi.accounts.urls")),
    path("tasks/", include("taskapi.tasks.urls")),
    path("labels/", include("taskapi.labels.urls")),
    path("", include("taskapi.projects.urls")),  # /projects/ and /invitations/
    path("webhooks/", include("taskapi.webhooks.urls")),
]

handler400 = "taskapi.core.hosts.bad_request"  # a Host not in ALLOWED_HOSTS says so
handler403 = "taskapi.core.views.permission_denied"
handler404 = "taskapi.core.views.not_found"
handler500 = "taskapi.core.views.server_error"
