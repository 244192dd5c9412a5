"""Projects, members and invitations over HTTP: parse, ask a selector or a service, render.

Where a path names a project and the request has a body, the project is read first: a
non-member gets the project's 404 before anything about the body is said.
"""

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.accounts.selectors import user_get
from taskapi.core.parsers import body_required
from taskapi.core.requests import AuthenticatedRequest
from taskapi.projects import policy, schema, services
from taskapi.projects.selectors import (
    my_invitation_list,
    project_get,
    project_invitation_list,
    project_list,
    project_member_list,
)
from taskapi.projects.serializers import (
    InvitationCreateIn,
    InvitationOut,
    MemberOut,
    MemberPatchIn,
    ProjectCreateIn,
    ProjectOut,
    ProjectPatchIn,
    ProjectTransferIn,
)


def _email_of(request: AuthenticatedRequest) -> str:
    # The access token carries only the user's id; invitations are addressed to an email.
    return user_get(user_id=request.user.id).email


class ProjectListView(APIView):
    @schema.project_list
    def get(self, request: AuthenticatedRequest) -> Response:
        # All of them, in one answer: a user is in at most MAX_PROJECTS_PER_USER.
        projects = project_list(user=request.user)
        return Response({"results": ProjectOut(projects, many=True).data})

    @schema.project_create
    def post(self, request: AuthenticatedRequest) -> Response:
        data = ProjectCreateIn(data=request.data).validated()
        project = services.project_create(user=request.user, data=data)
        location = reverse("projectGet", kwargs={"project_id": project.pk})
        return Response(
            ProjectOut(project).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


class ProjectDetailView(APIView):
    @schema.project_get
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        return Response(ProjectOut(project_get(user=request.user, project_id=project_id)).data)

    @schema.project_update
    def patch(self, request: AuthenticatedRequest, project_id: int) -> Response:
        # 404, then 403, before the body is read (policy.before_other_refusals).
        project_get(user=request.user, project_id=project_id, permission=policy.PROJECT_UPDATE)
        body_required(request)
        changes = ProjectPatchIn(data=request.data).validated()
        project = services.project_update(user=request.user, project_id=project_id, changes=changes)
        return Response(ProjectOut(project).data)

    @schema.project_delete
    def delete(self, request: AuthenticatedRequest, project_id: int) -> Response:
        services.project_delete(user=request.user, project_id=project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectLeaveView(APIView):
    @schema.project_leave
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        services.project_leave(user=request.user, project_id=project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectTransferView(APIView):
    @schema.project_transfer
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project_get(user=request.user, project_id=project_id, permission=policy.MEMBER_MANAGE)
        body_required(request)
        data = ProjectTransferIn(data=request.data).validated()
        project = services.project_transfer(
            user=request.user, project_id=project_id, user_id=data["user_id"]
        )
        return Response(ProjectOut(project).data)


class MemberListView(APIView):
    @schema.member_list
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        # All of them, in one answer: a project has at most MAX_MEMBERS_PER_PROJECT.
        members = project_member_list(user=request.user, project_id=project_id)
        return Response({"results": MemberOut(members, many=True).data})


class MemberDetailView(APIView):
    @schema.member_update
    def patch(self, request: AuthenticatedRequest, project_id: int, user_id: int) -> Response:
        project_get(user=request.user, project_id=project_id, permission=policy.MEMBER_MANAGE)
        body_required(request)
        data = MemberPatchIn(data=request.data).validated()
        member = services.member_update(
            user=request.user, project_id=project_id, user_id=user_id, role=data["role"]
        )
        return Response(MemberOut(member).data)

    @schema.member_remove
    def delete(self, request: AuthenticatedRequest, project_id: int, user_id: int) -> Response:
        services.member_remove(user=request.user, project_id=project_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(APIView):
    @schema.invitation_list
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        invitations = project_invitation_list(user=request.user, project_id=project_id)
        return Response({"results": InvitationOut(invitations, many=True).data})

    @schema.invitation_create
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project_get(user=request.user, project_id=project_id, permission=policy.INVITATION_MANAGE)
        body_required(request)
        data = InvitationCreateIn(data=request.data).validated()
        invitation = services.invitation_create(
            user=request.user, project_id=project_id, email=data["email"], role=data["role"]
        )
        # No Location: an invitation has no URL to GET (the contract documents none).
        return Response(InvitationOut(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(APIView):
    @schema.invitation_revoke
    def delete(
        self, request: AuthenticatedRequest, project_id: int, invitation_id: int
    ) -> Response:
        services.invitation_revoke(
            user=request.user, project_id=project_id, invitation_id=invitation_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyInvitationListView(APIView):
    @schema.my_invitation_list
    def get(self, request: AuthenticatedRequest) -> Response:
        invitations = my_invitation_list(email=_email_of(request))
        return Response({"results": InvitationOut(invitations, many=True).data})


class InvitationAcceptView(APIView):
    @schema.invitation_accept
    def post(self, request: AuthenticatedRequest, invitation_id: int) -> Response:
        project = services.invitation_accept(
            user=request.user, email=_email_of(request), invitation_id=invitation_id
        )
        return Response(ProjectOut(project).data)


class InvitationDeclineView(APIView):
    @schema.invitation_decline
    def post(self, request: AuthenticatedRequest, invitation_id: int) -> Response:
        services.invitation_decline(
            user=request.user, email=_email_of(request), invitation_id=invitation_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
