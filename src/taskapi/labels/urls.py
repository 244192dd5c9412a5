from django.urls import path

from taskapi.labels.views import LabelDetailView, LabelListView

# Names are the operationIds of openapi.yaml.
list_view = LabelListView.as_view()
detail_view = LabelDetailView.as_view()

urlpatterns = [
    path("", list_view, name="labelList"),
    path("", list_view, name="labelCreate"),
    path("<int:label_id>/", detail_view, name="labelGet"),
    path("<int:label_id>/", detail_view, name="labelUpdate"),
    path("<int:label_id>/", detail_view, name="labelDelete"),
]
