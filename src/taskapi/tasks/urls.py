from django.urls import path

from taskapi.tasks.views import (
    TaskBulkView,
    TaskChangesView,
    TaskDetailView,
    TaskListView,
    TaskMoveView,
    TaskRestoreView,
    TaskTrashDetailView,
    TaskTrashListView,
)

# Names are the operationIds of openapi.yaml. One view serves several operations, so the
# method-specific names resolve to the same route.
list_view = TaskListView.as_view()
detail_view = TaskDetailView.as_view()

urlpatterns = [
    path("", list_view, name="taskList"),
    path("", list_view, name="taskCreate"),
    path("<int:task_id>/", detail_view, name="taskGet"),
    path("<int:task_id>/", detail_view, name="taskReplace"),
    path("<int:task_id>/", detail_view, name="taskUpdate"),
    path("<int:task_id>/", detail_view, name="taskDelete"),
    path("<int:task_id>/restore/", TaskRestoreView.as_view(), name="taskRestore"),
    path("<int:task_id>/move/", TaskMoveView.as_view(), name="taskMove"),
    path("bulk/", TaskBulkView.as_view(), name="taskBulk"),
    path("changes/", TaskChangesView.as_view(), name="taskChanges"),
    path("trash/", TaskTrashListView.as_view(), name="taskTrashList"),
    path("trash/<int:task_id>/", TaskTrashDetailView.as_view(), name="taskErase"),
]
