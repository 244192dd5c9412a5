"""policy.project_id_list, the compiled form of policy.project_ids that a page of tasks reads
first: the same projects for every permission, whoever asks (its SQL is compiled once per
connection with stand-in values, then run with each user's id)."""

import pytest

from taskapi.projects import policy
from taskapi.projects.models import Role
from taskapi.projects.services import invitation_accept, invitation_create, project_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _join(owner, project_id: int, member, role: str) -> None:
    invitation = invitation_create(user=owner, project_id=project_id, email=member.email, role=role)
    invitation_accept(user=member, email=member.email, invitation_id=invitation.pk)


@pytest.mark.parametrize("permission", sorted(policy.PERMISSIONS))
def test_the_compiled_list_is_the_policys_subquery_for_each_user(permission):
    ada, grace, outsider = UserFactory(), UserFactory(), UserFactory()
    project_create(user=outsider, data={"name": "Not theirs"})
    for role in (Role.EDITOR, Role.VIEWER):
        project = project_create(user=ada, data={"name": f"Ada's, {role}"})
        _join(ada, project.pk, grace, role)
        project = project_create(user=grace, data={"name": f"Grace's, {role}"})
        _join(grace, project.pk, ada, role)

    for user in (ada, grace, outsider, ada):
        expected = sorted(policy.project_ids(user=user, permission=permission))
        assert sorted(policy.project_id_list(user=user, permission=permission)) == expected
    assert 2 <= len(policy.project_id_list(user=ada, permission=permission)) <= 5
