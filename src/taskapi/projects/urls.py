from django.urls import path

from taskapi.projects.views import (
    InvitationAcceptView,
    InvitationDeclineView,
    InvitationDetailView,
    InvitationListView,
    MemberDetailView,
    MemberListView,
    MyInvitationListView,
    ProjectDetailView,
    ProjectLeaveView,
    ProjectListView,
    ProjectTransferView,
)

# Names are the operationIds of openapi.yaml. Included at the root: the room serves both
# /projects/ and /invitations/ (the invitee's side).
project_list = ProjectListView.as_view()
project_detail = ProjectDetailView.as_view()
member_list = MemberListView.as_view()
member_detail = MemberDetailView.as_view()
invitation_list = InvitationListView.as_view()
invitation_detail = InvitationDetailView.as_view()

urlpatterns = [
    path("projects/", project_list, name="projectList"),
    path("projects/", project_list, name="projectCreate"),
    path("projects/<int:project_id>/", project_detail, name="projectGet"),
    path("projects/<int:project_id>/", project_detail, name="projectUpdate"),
    path("projects/<int:project_id>/", project_detail, name="projectDelete"),
    path("projects/<int:project_id>/leave/", ProjectLeaveView.as_view(), name="projectLeave"),
    path(
        "projects/<int:project_id>/transfer/",
        ProjectTransferView.as_view(),
        name="projectTransfer",
    ),
    path("projects/<int:project_id>/members/", member_list, name="memberList"),
    path("projects/<int:project_id>/members/<int:user_id>/", member_detail, name="memberUpdate"),
    path("projects/<int:project_id>/members/<int:user_id>/", member_detail, name="memberRemove"),
    path("projects/<int:project_id>/invitations/", invitation_list, name="invitationList"),
    path("projects/<int:project_id>/invitations/", invitation_list, name="invitationCreate"),
    path(
        "projects/<int:project_id>/invitations/<int:invitation_id>/",
        invitation_detail,
        name="invitationRevoke",
    ),
    path("invitations/", MyInvitationListView.as_view(), name="myInvitationList"),
    path(
        "invitations/<int:invitation_id>/accept/",
        InvitationAcceptView.as_view(),
        name="invitationAccept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        InvitationDeclineView.as_view(),
        name="invitationDecline",
    ),
]
