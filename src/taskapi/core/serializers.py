"""What every input serializer of the API shares."""

from typing import Any

from rest_framework import serializers


class InputSerializer(serializers.Serializer):
    """A request body's serializer: `validated()` is its data, or a 400 validation problem."""

    def validated(self) -> dict[str, Any]:
        self.is_valid(raise_exception=True)
        return dict(self.validated_data)
