"""What every input serializer of the API shares: the base class and the strict fields.

DRF's stock fields coerce: CharField turns the JSON number 1.2345678e30 into the string
"1.2345678e+30" (an account was once created with that password), BooleanField takes "yes" and 1,
DateField takes 20261201. The contract says `type: string`, `type: boolean`, `format: date`,
`format: date-time`, so every app declares its input fields with these, and a value of the wrong
JSON type is a 400.
"""

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from rest_framework import serializers
from rest_framework.fields import empty

from taskapi.core.schema import IdField

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339 section 5.6 date-time: the offset is required ("T" and "Z" may be lower case), and
# digits are ASCII ones (\d alone also matches "٢", which fromisoformat happens to refuse).
_RFC3339_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


class InputSerializer(serializers.Serializer[Any]):
    """A request body's serializer: `validated()` is its data, or a 400 validation problem."""

    def validated(self) -> dict[str, Any]:
        self.is_valid(raise_exception=True)
        return dict(self.validated_data)


if TYPE_CHECKING:
    # What the mixins below are mixed into, so that the type checker knows their super().
    # At run time they stay plain mixins, whatever class they precede.
    _InputBase = InputSerializer
    _StringFieldBase = serializers.CharField
else:
    _InputBase = _StringFieldBase = object


class PartialInput(_InputBase):
    """Mixed in before an input serializer: PATCH semantics. Only the fields sent are
    validated, and no defaults are applied (nor shown in the schema)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for field in fields.values():
            field.default = empty
        return fields


# What the contract's patterns call whitespace: JSON Schema's `\s` (ECMA-262). Python's
# str.strip() also strips U+001C..U+001F and U+0085, so a name of "\u001f", which the
# contract's pattern accepts, came out blank (a 400 for a schema-valid request).
JSON_SCHEMA_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class StrictStringMixin(_StringFieldBase):
    """A JSON string only; anything else fails with the field's `invalid` message. Trimmed of
    the whitespace the contract's patterns mean, no more (JSON_SCHEMA_WHITESPACE)."""

    default_error_messages = {"invalid": "Not a valid string."}

    def __init__(self, **kwargs: Any) -> None:
        self.trims = kwargs.pop("trim_whitespace", True)
        super().__init__(trim_whitespace=False, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if self.trims and isinstance(data, str):
            data = data.strip(JSON_SCHEMA_WHITESPACE)
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    pass


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF's BooleanField also takes "yes", "on", 1 and "0"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictDateField(serializers.DateField):
    """YYYY-MM-DD only: Python's fromisoformat also takes 20261201 and 2026-W49-2."""

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str) or not _ISO_DATE.fullmatch(data):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(data)


class StrictIdField(IdField):
    """An id sent by a client: a positive JSON integer (not "5" or true); anything else fails
    with `invalid`. A number with a zero fraction (5.0) is an integer to JSON Schema, and so
    here. An id beyond int64 is well formed: like a path id, it names nothing, and whoever
    looks it up must say so (never pass it to the database, which would overflow)."""

    default_error_messages = {"invalid": "Not a valid id: use a positive integer."}

    def to_internal_value(self, data: Any) -> int:
        if type(data) is float and data.is_integer():
            data = int(data)
        if type(data) is not int or data < 1:
            self.fail("invalid")
        return data


class StrictDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time with its offset, as an aware datetime in UTC.

    DRF's DateTimeField takes a naive "2026-12-01T17:00:00" and reads it in the server's zone,
    and lets an instant outside years 1 to 9999 in UTC escape as a 500 (OverflowError).
    """

    default_error_messages = {
        "invalid": "Use an RFC 3339 date-time with an offset: 2026-12-01T17:00:00+01:00 or "
        "2026-12-01T16:00:00Z.",
        "out_of_range": "The date-time in UTC must be in the years 1 to 9999.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or not _RFC3339_DATE_TIME.fullmatch(data):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data.upper())  # 3.11 reads neither "t" nor "z"
        except ValueError:  # a month 13, a leap second, an offset of 24:00
            self.fail("invalid")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            self.fail("out_of_range")
