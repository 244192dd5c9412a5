"""JWT classes and claims. Signing and the pinned algorithm come from settings.SIMPLE_JWT.

Access tokens carry `ver` (the user's token_version when issued). Refresh tokens carry `ver`
and `fam`, the id of the TokenFamily (the login) they descend from.
"""

from dataclasses import dataclass

from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

VERSION_CLAIM = "ver"
FAMILY_CLAIM = "fam"


class FamilyRefreshToken(RefreshToken):
    """A refresh token whose blacklist check is left to the refresh service.

    simplejwt's check would reject a rotated token before we could tell that it was *reused*,
    which must also revoke its family; the service checks the blacklist under a row lock instead.
    """

    # simplejwt's attribute is inferred as a tuple of exactly its five claims; any tuple of claim
    # names is what it reads.
    no_copy_claims = (*RefreshToken.no_copy_claims, FAMILY_CLAIM)  # type: ignore[assignment]

    def check_blacklist(self) -> None:
        return None


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


__all__ = ["FAMILY_CLAIM", "VERSION_CLAIM", "AccessToken", "FamilyRefreshToken", "TokenPair"]
