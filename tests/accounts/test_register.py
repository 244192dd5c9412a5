import pytest

from taskapi.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-enough-passphrase"


def fields(response) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["field"], set()).add(error["code"])
    return found


def test_register_creates_the_account_and_points_at_me(http):
    response = http.post("/auth/register/", {"email": "New@Example.com", "password": STRONG})

    assert response.status_code == 201
    assert response["Location"] == "/auth/me/"
    body = response.json()
    assert set(body) == {"id", "email", "date_joined"}
    assert body["email"] == "new@example.com"
    assert body["date_joined"].endswith("Z")
    assert User.objects.get(pk=body["id"]).check_password(STRONG)


def test_register_refuses_an_email_taken_in_another_case(http):
    UserFactory(email="taken@example.com")

    response = http.post("/auth/register/", {"email": "TAKEN@Example.COM", "password": STRONG})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert fields(response) == {"email": {"unique"}}


def test_register_refuses_an_invalid_email(http):
    response = http.post("/auth/register/", {"email": "not-an-email", "password": STRONG})

    assert response.status_code == 400
    assert fields(response) == {"email": {"invalid"}}


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Sh0rt!", "password_too_short"),
        ("password123", "password_too_common"),
        ("83920174651", "password_entirely_numeric"),
        ("jane.doe.example", "password_too_similar"),
    ],
)
def test_register_refuses_a_weak_password_with_djangos_validators(http, password, code):
    response = http.post("/auth/register/", {"email": "jane.doe@example.com", "password": password})

    assert response.status_code == 400
    assert code in fields(response)["password"]
    assert not User.objects.filter(email="jane.doe@example.com").exists()


def test_register_names_every_missing_field(http):
    response = http.post("/auth/register/", {})

    assert response.status_code == 400
    assert fields(response) == {"email": {"required"}, "password": {"required"}}


def test_register_ignores_unknown_and_read_only_fields(http):
    response = http.post(
        "/auth/register/",
        {"email": "x@example.com", "password": STRONG, "id": 999, "token_version": 7},
    )

    assert response.status_code == 201
    user = User.objects.get(email="x@example.com")
    assert user.pk != 999
    assert user.token_version == 0
