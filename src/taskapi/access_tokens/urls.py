from django.urls import path

from taskapi.access_tokens.views import TokenDetailView, TokenListView

# Names are the operationIds of openapi.yaml.
list_view = TokenListView.as_view()
detail_view = TokenDetailView.as_view()

urlpatterns = [
    path("", list_view, name="tokenList"),
    path("", list_view, name="tokenCreate"),
    path("<int:token_id>/", detail_view, name="tokenGet"),
    path("<int:token_id>/", detail_view, name="tokenDelete"),
]
