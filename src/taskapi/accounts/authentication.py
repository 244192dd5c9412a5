"""Placeholder until the accounts issue lands: simplejwt's stock authentication."""

from rest_framework_simplejwt.authentication import JWTAuthentication


class AccessTokenAuthentication(JWTAuthentication):
    pass
