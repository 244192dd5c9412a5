from django.urls import path

from taskapi.core import views
from taskapi.core.metrics import metrics_view

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="healthLive"),
    path("health/ready/", views.ReadinessView.as_view(), name="healthReady"),
    path("openapi.yaml", views.openapi_yaml, name="getContract"),
    path("api/docs/", views.ApiDocsView.as_view(url="/openapi.yaml"), name="apiDocs"),
    # Prometheus' conventional path (no slash). Scraped per instance on loopback; the public
    # nginx server answers 404 for it (deploy/nginx).
    path("metrics", metrics_view, name="metrics"),
]
