"""Compare the schema drf-spectacular generates from the code with the hand-written contract.

Both documents are normalised into the same shape, then compared fact by fact:

    {operation: {location: {(field, keyword): value}}}

- operation: `METHOD /path/` with every path parameter written `{}` (a path parameter's name is
  not on the wire; it is compared as the `name` of `parameter path position N`).
- location: `operation` (operationId, tags, security), `parameter <in> <name>`, `request`
  (required), `request <media type>`, `response <status>`, `response <status> <media type>`.
- field: where in the body the fact is (`results[].title`, `` for the root, `|anyOf1` for a
  branch); keyword: what the fact is (`type`, `nullable`, `format`, `enum`, `required`,
  `readOnly`, bounds, `default` on inputs...).

$refs are resolved, `allOf` parts are merged, `const` is a one-member `enum`, and OpenAPI 3.0 /
3.1 spellings of null (`nullable: true`, `type: [x, 'null']`, `anyOf: [x, {type: 'null'}]`) are
all `nullable: true`. Not compared: descriptions, examples, patterns, `writeOnly`, response
headers and links (what drf-spectacular cannot express, or nothing a client's data depends on).

A location present on one side only is one difference (`exists`), not one per fact inside it.
Differences that are real limits of generation are listed, each with its reason, in
known_differences.yaml; every listed one must still occur, so the list cannot rot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

ABSENT = "<absent>"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Keywords compared wherever they appear; `default` only where a client may leave a value out.
SCHEMA_KEYWORDS = (
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
)

Facts = dict[tuple[str, str], Any]
Normalised = dict[str, dict[str, Facts]]


@dataclass(frozen=True)
class Difference:
    operation: str
    location: str
    field: str
    what: str
    contract: Any
    generated: Any

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return (
            f"{self.operation} | {self.location} |{field} {self.what}: "
            f"contract {self.contract!r}, generated {self.generated!r}"
        )


@dataclass(frozen=True)
class KnownDifference:
    operations: tuple[str, ...]
    location: str
    field: str
    what: str
    contract: Any
    generated: Any
    reason: str

    def matches(self, difference: Difference) -> bool:
        return (
            difference.operation in self.operations
            and (difference.location, difference.field, difference.what)
            == (self.location, self.field, self.what)
            and (difference.contract, difference.generated) == (self.contract, self.generated)
        )


@dataclass(frozen=True)
class Outcome:
    unexpected: list[Difference]
    stale: list[KnownDifference]

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.stale

    def report(self) -> str:
        lines = []
        if self.unexpected:
            lines.append(
                f"{len(self.unexpected)} difference(s) between openapi.yaml and the generated "
                "schema (fix the code or the contract, or list a real limit of generation in "
                "contract/known_differences.yaml with its reason):"
            )
            lines += [f"  {difference}" for difference in self.unexpected]
        if self.stale:
            lines.append(
                f"{len(self.stale)} known difference(s) no longer occur; remove them from "
                "contract/known_differences.yaml:"
            )
            lines += [
                f"  {', '.join(k.operations)} | {k.location} | {k.field}: {k.what}"
                for k in self.stale
            ]
        return "\n".join(lines)


# --- schemas -----------------------------------------------------------------------------------


class _Resolver:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def __call__(self, node: Any) -> Any:
        """`node` with its $ref (and the $refs those lead to) replaced by their target."""
        seen = set()
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                raise ValueError(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            # Sibling keywords of a $ref (3.1) apply together with its target.
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {"allOf": [target, siblings]} if siblings else target
        return node


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if key == "properties":
            properties = base.setdefault("properties", {})
            for name, schema in value.items():
                properties[name] = (
                    {"allOf": [properties[name], schema]} if name in properties else schema
                )
        elif key == "required":
            base["required"] = sorted(set(base.get("required", [])) | set(value))
        else:
            base[key] = value
    return base


def _flatten_all_of(schema: Mapping[str, Any], resolve: _Resolver) -> dict[str, Any]:
    schema = resolve(schema)
    merged: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        _merge(merged, _flatten_all_of(part, resolve))
    return _merge(merged, {k: v for k, v in schema.items() if k != "allOf"})


def _is_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("enum") == [None]


def schema_facts(
    schema: Mapping[str, Any] | None, resolve: _Resolver, *, with_defaults: bool
) -> Facts:
    """Every compared fact of `schema`, keyed by (field, keyword)."""
    facts: Facts = {}
    if schema is not None:
        _collect(schema, "", facts, resolve, with_defaults)
    return facts


def _collect(
    schema: Mapping[str, Any], field: str, facts: Facts, resolve: _Resolver, with_defaults: bool
) -> None:
    schema = _flatten_all_of(schema, resolve)
    nullable = bool(schema.get("nullable"))
    for keyword in ("anyOf", "oneOf"):
        branches = [resolve(branch) for branch in schema.get(keyword, [])]
        if any(_is_null(branch) for branch in branches):
            nullable = True
            branches = [branch for branch in branches if not _is_null(branch)]
            if len(branches) == 1:
                schema = _merge(
                    {k: v for k, v in schema.items() if k != keyword},
                    _flatten_all_of(branches[0], resolve),
                )
                continue
        for index, branch in enumerate(branches):
            _collect(branch, f"{field}|{keyword}{index}", facts, resolve, with_defaults)

    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if "null" in types:
        nullable = True
        types.remove("null")
    enum = schema.get("enum")
    if "const" in schema:
        enum = [schema["const"]]
    if enum is not None:
        if None in enum:
            nullable = True
        facts[(field, "enum")] = sorted(str(value) for value in enum if value is not None)
    if types:
        facts[(field, "type")] = types[0] if len(types) == 1 else sorted(types)
    if nullable:
        facts[(field, "nullable")] = True
    if schema.get("readOnly"):
        facts[(field, "readOnly")] = True
    for keyword in SCHEMA_KEYWORDS:
        if keyword in schema:
            facts[(field, keyword)] = schema[keyword]
    if with_defaults and "default" in schema:
        facts[(field, "default")] = schema["default"]

    properties = schema.get("properties", {})
    if properties or "required" in schema or types == ["object"]:
        facts[(field, "required")] = sorted(schema.get("required", []))
    for name, subschema in properties.items():
        _collect(subschema, f"{field}.{name}" if field else name, facts, resolve, with_defaults)
    additional = schema.get("additionalProperties", True)
    if additional is False:
        facts[(field, "additionalProperties")] = False
    elif isinstance(additional, Mapping):
        _collect(additional, f"{field}{{*}}", facts, resolve, with_defaults)
    if "items" in schema:
        _collect(schema["items"], f"{field}[]", facts, resolve, with_defaults)


# --- documents ---------------------------------------------------------------------------------


def _operation_key(method: str, path: str) -> str:
    parts = [("{}" if part.startswith("{") else part) for part in path.split("/")]
    return f"{method.upper()} {'/'.join(parts)}"


def _security(operation: Mapping[str, Any], document: Mapping[str, Any]) -> list[str]:
    requirements = operation.get("security", document.get("security", []))
    # [] and [{}] both mean "no credentials needed"; an {} among others means "optional".
    names = {" + ".join(sorted(requirement)) or "anonymous" for requirement in requirements}
    return sorted(names or {"anonymous"})


def _parameters(
    path_item: Mapping[str, Any], operation: Mapping[str, Any], path: str, resolve: _Resolver
) -> dict[str, dict[str, Any]]:
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = resolve(parameter)
        name = parameter["name"]
        key_name = name.lower() if parameter["in"] == "header" else name
        by_key[(parameter["in"], key_name)] = parameter
    path_names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    result = {}
    for (location, name), parameter in by_key.items():
        facts: Facts = {}
        if location == "path":
            position = path_names.index(parameter["name"]) + 1
            label = f"parameter path position {position}"
            facts[("", "name")] = parameter["name"]
        else:
            label = f"parameter {location} {name}"
        facts[("", "required")] = bool(parameter.get("required", False))
        facts.update(schema_facts(parameter.get("schema"), resolve, with_defaults=True))
        result[label] = facts
    return result


def normalise(document: Mapping[str, Any]) -> Normalised:
    resolve = _Resolver(document)
    result: Normalised = {}
    for path, path_item in document.get("paths", {}).items():
        path_item = resolve(path_item)
        for method in METHODS:
            if method not in path_item:
                continue
            operation = path_item[method]
            locations: dict[str, Facts] = {
                "operation": {
                    ("", "operationId"): operation.get("operationId"),
                    ("", "tags"): sorted(operation.get("tags", [])),
                    ("", "security"): _security(operation, document),
                }
            }
            locations.update(_parameters(path_item, operation, path, resolve))
            if "requestBody" in operation:
                body = resolve(operation["requestBody"])
                locations["request"] = {("", "required"): bool(body.get("required", False))}
                for media_type, content in body.get("content", {}).items():
                    locations[f"request {media_type}"] = schema_facts(
                        content.get("schema"), resolve, with_defaults=True
                    )
            for status, response in operation.get("responses", {}).items():
                response = resolve(response)
                locations[f"response {status}"] = {}
                for media_type, content in response.get("content", {}).items():
                    locations[f"response {status} {media_type}"] = schema_facts(
                        content.get("schema"), resolve, with_defaults=False
                    )
            result[_operation_key(method, path)] = locations
    return result


def differences(contract: Mapping[str, Any], generated: Mapping[str, Any]) -> list[Difference]:
    """Every difference between the two OpenAPI documents, in a stable order."""
    expected, actual = normalise(contract), normalise(generated)
    found: list[Difference] = []
    for operation in sorted(expected.keys() | actual.keys()):
        if operation not in actual or operation not in expected:
            found.append(
                Difference(
                    operation, "operation", "", "exists", operation in expected, operation in actual
                )
            )
            continue
        want, have = expected[operation], actual[operation]
        for location in sorted(want.keys() | have.keys()):
            if location not in have or location not in want:
                found.append(
                    Difference(
                        operation, location, "", "exists", location in want, location in have
                    )
                )
                continue
            for field, what in sorted(want[location].keys() | have[location].keys()):
                contract_value = want[location].get((field, what), ABSENT)
                generated_value = have[location].get((field, what), ABSENT)
                if contract_value != generated_value:
                    found.append(
                        Difference(
                            operation, location, field, what, contract_value, generated_value
                        )
                    )
    return found


def load_known(path: Path) -> list[KnownDifference]:
    entries = yaml.safe_load(path.read_text()) or []
    known = []
    for entry in entries:
        missing = {"where", "what", "contract", "generated", "reason"} - entry.keys()
        if missing or not str(entry["reason"]).strip():
            raise ValueError(f"known difference {entry!r} lacks {sorted(missing) or ['reason']}")
        where = entry["where"]
        operations = where["operation"]
        known.append(
            KnownDifference(
                operations=tuple([operations] if isinstance(operations, str) else operations),
                location=where["location"],
                field=where.get("field", ""),
                what=entry["what"],
                contract=entry["contract"],
                generated=entry["generated"],
                reason=entry["reason"],
            )
        )
    return known


def check(
    contract: Mapping[str, Any], generated: Mapping[str, Any], known: Iterable[KnownDifference]
) -> Outcome:
    known = list(known)
    found = differences(contract, generated)
    unexpected = [d for d in found if not any(k.matches(d) for k in known)]
    stale = [
        replace(k, operations=(operation,))
        for k in known
        for operation in k.operations
        if not any(k.matches(d) and d.operation == operation for d in found)
    ]
    return Outcome(unexpected=unexpected, stale=stale)
