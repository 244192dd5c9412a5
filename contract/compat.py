"""The breaking-change gate: openapi.yaml against the latest released contract (`make compat`).

    python -m contract.compat [--base FILE] [--released-dir DIR] [NEW]   # NEW: openapi.yaml
    python -m contract.compat --rules                                  # who checks what

Every released contract is kept, byte for byte, as contract/released/X.Y.Z.yaml; the latest
release is the highest version there. The change from it to NEW is rated by `redocly diff` (the
pinned Redocly CLI with contract/redocly-diff.yaml, i.e. diff-recommended) plus the few rules it
misses (RULES below), and NEW's info.version must then be the next version that change needs:

- none (nothing changed): the same version;
- patch (documentation, comments, layout): X.Y.(Z+1), or the next minor or major;
- minor (additions): X.(Y+1).0 or (X+1).0.0;
- major (anything that can break a client): (X+1).0.0.

A version that skips one (1.0.0 to 1.2.0) fails too: every release is in contract/released, so
a gap would name a release that never existed. A released file is immutable: when NEW's version
is a released one, NEW must be that file, byte for byte (GET /openapi.yaml serves the bytes).

Exit status: 0 pass, 1 the gate fails, 2 it cannot run (no release yet, tool missing).
"""

from __future__ import annotations

import argparse
import enum
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "openapi.yaml"
RELEASED_DIR = REPO / "contract" / "released"
DIFF_CONFIG = REPO / "contract" / "redocly-diff.yaml"
NPM_MODULES = REPO / ".tools" / "npm" / "node_modules"
REDOCLY = NPM_MODULES / ".bin" / "redocly"
# The version the rule table was checked against (the Makefile's NPM_PACKAGES pins the same).
# `redocly diff` is experimental: its rule names, verdicts and JSON can change between releases,
# so any other version stops the gate until someone re-runs contract/test_compat.py with it and
# updates this table.
REDOCLY_VERSION = "2.77.0"
# libyaml's safe loader when PyYAML has it: the contract is 170 kB, and the pure-Python parser
# took most of a gate run (the same documents come out).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

REDOCLY_TOOL = f"Redocly CLI {REDOCLY_VERSION}"
PYTHON_TOOL = "contract/compat.py"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Document = dict[str, Any]


class CompatError(Exception):
    """The gate cannot run: nothing to compare with, or the tool is missing or failed."""


class Level(enum.IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object) -> Version | None:
        # Plain MAJOR.MINOR.PATCH only: a pre-release label has no place in a released file name.
        match = re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", str(text))
        return cls(*map(int, match.groups())) if match else None

    def allowed_after(self, level: Level) -> list[Version]:
        """The versions that may follow this one for a change of this level."""
        if level is Level.NONE:
            return [self]
        following = {
            Level.PATCH: Version(self.major, self.minor, self.patch + 1),
            Level.MINOR: Version(self.major, self.minor + 1, 0),
            Level.MAJOR: Version(self.major + 1, 0, 0),
        }
        return [version for step, version in following.items() if step >= level]

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class Finding:
    rule: str
    impact: Level
    where: str
    what: str
    tool: str


@dataclass(frozen=True)
class Failure:
    rule: str
    message: str


# --- the rules compat.py adds ----------------------------------------------------------------
# Each covers a change that `redocly diff` 2.77.0 misses, or rates other than this contract's
# policy does (measured; contract/test_compat.py has a case for each).

DocumentRule = Callable[[Document, Document], list[Finding]]


def path_parameter_renamed(base: Document, new: Document) -> list[Finding]:
    # Redocly lists "a renamed path variable, and the renamed path parameter" among the changes
    # it does not report: the URL on the wire is the same. But generated clients name the
    # argument after it (openapi-fetch's `params.path.id`, openapi-python-client's `id=`), so
    # their callers stop compiling.
    findings = []
    for old_path, new_path in matched_paths(base, new):
        for old_name, new_name in zip(
            path_variables(old_path), path_variables(new_path), strict=True
        ):
            if old_name != new_name:
                findings.append(
                    Finding(
                        "path-parameter-renamed",
                        Level.MAJOR,
                        new_path,
                        f"path parameter `{old_name}` of {old_path} is now `{new_name}`",
                        PYTHON_TOOL,
                    )
                )
    return findings


def security_now_inherited(base: Document, new: Document) -> list[Finding]:
    # An operation that drops its own `security` (here: `security: []`, no authentication) falls
    # back to the document's (bearerAuth). Redocly compares the lists as written and rates the
    # removed list "patch", so a public operation silently starts asking for a token.
    findings = []
    for method, _old_path, new_path, old_op, new_op in matched_operations(base, new):
        if "security" not in old_op or "security" in new_op:
            continue
        inherited = new.get("security") or []
        required_now = alternatives(inherited)
        if any(not admits(old, required_now) for old in alternatives(old_op["security"])):
            findings.append(
                Finding(
                    "security-now-inherited",
                    Level.MAJOR,
                    f"{method.upper()} {new_path}",
                    f"drops its own `security: {json.dumps(old_op['security'])}` and falls back "
                    f"to the document's `{json.dumps(inherited)}`, which old clients do not meet",
                    PYTHON_TOOL,
                )
            )
    return findings


def request_body_added_required(base: Document, new: Document) -> list[Finding]:
    # Redocly's request-body-became-required looks only at a body that was already there; a new
    # body counts as an addition ("minor"), even a required one that every old call lacks.
    findings = []
    for method, _old_path, new_path, old_op, new_op in matched_operations(base, new):
        if "requestBody" in old_op or "requestBody" not in new_op:
            continue
        if resolve(new, new_op["requestBody"]).get("required") is True:
            findings.append(
                Finding(
                    "request-body-added-required",
                    Level.MAJOR,
                    f"{method.upper()} {new_path}",
                    "a required request body was added to an operation that had none",
                    PYTHON_TOOL,
                )
            )
    return findings


def deprecation_added(base: Document, new: Document) -> list[Finding]:
    # Redocly reports a new `deprecated: true` as a plain change ("patch"). Semantic Versioning
    # (item 7) asks for a minor version when anything is deprecated, and the server starts to
    # send Deprecation and Sunset headers (core/deprecation.py): clients can observe it.
    findings = []
    for method, _old_path, new_path, old_op, new_op in matched_operations(base, new):
        where = f"{method.upper()} {new_path}"
        if new_op.get("deprecated") and not old_op.get("deprecated"):
            findings.append(
                Finding("deprecation-added", Level.MINOR, where, "deprecated", PYTHON_TOOL)
            )
        before = _parameters_by_key(base, old_op)
        for key, parameter in _parameters_by_key(new, new_op).items():
            if parameter.get("deprecated") and not before.get(key, {}).get("deprecated"):
                what = f"{key[0]} parameter `{key[1]}` deprecated"
                findings.append(Finding("deprecation-added", Level.MINOR, where, what, PYTHON_TOOL))
    return findings


def _parameters_by_key(document: Document, operation: dict[str, Any]) -> dict[tuple[str, str], Any]:
    resolved = (resolve(document, parameter) for parameter in operation.get("parameters", []))
    return {(parameter["in"], parameter["name"]): parameter for parameter in resolved}


# Redocly's changes that no rule judged: "added" is minor and everything else patch. Two of those
# defaults are wrong for this contract's policy (docs only: patch; additions: minor).
DOCUMENTATION_TYPES = frozenset({"Example", "ExamplesMap", "ExternalDocs", "Tag"})


def reclassified(change: dict[str, Any], where: str) -> Finding | None:
    if change["kind"] == "added" and change["typeName"] in DOCUMENTATION_TYPES:
        # An added named example, externalDocs or tag documents the API and changes nothing a
        # client sends or receives, but counts as "added" (minor) in redocly.
        return Finding(
            "docs-addition", Level.PATCH, where, f"{change['typeName']} added", PYTHON_TOOL
        )
    if change.get("property") == "enum" and change["kind"] == "modified":
        # Redocly judges enums by direction: values added in a response, or removed in a
        # request, get a verdict (major). Values added to a request-only enum get none and so
        # count as "patch", though the server now accepts something new: a feature.
        before = change["base"].get("value") or []
        added = [value for value in change["revision"].get("value") or [] if value not in before]
        if added:
            return Finding(
                "enum-values-added-in-request",
                Level.MINOR,
                where,
                f"the request now accepts {', '.join(f'`{value}`' for value in added)}",
                PYTHON_TOOL,
            )
    return None


def unreported_changes(
    base_text: str, base: Document, new_text: str, new: Document
) -> list[Finding]:
    # Redocly reports no change for some edits (measured: a media type's `example`, a named
    # example's `value`), and none for comments or layout. All of them change the bytes that
    # GET /openapi.yaml serves, so a release needs at least a patch.
    pointer = first_difference(without_version(base), without_version(new))
    if pointer is not None:
        what = "changed where redocly reports no change"
        return [Finding("unreported-change", Level.PATCH, readable(pointer), what, PYTHON_TOOL)]
    if text_without_version(base_text) != text_without_version(new_text):
        what = "comments or layout changed (same document, other bytes)"
        return [Finding("unreported-change", Level.PATCH, "the file's text", what, PYTHON_TOOL)]
    return []


# --- every rule, and who checks it ------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    impact: Level
    checked_by: str
    what: str
    check: DocumentRule | None = None


RULES: tuple[Rule, ...] = (
    # redocly diff with diff-recommended (contract/redocly-diff.yaml): its OpenAPI rules, every
    # one at major, then how it rates a change that no rule judged.
    Rule("path-removed", Level.MAJOR, REDOCLY_TOOL, "a removed or renamed path"),
    Rule("operation-removed", Level.MAJOR, REDOCLY_TOOL, "a removed operation"),
    Rule("operation-id-changed", Level.MAJOR, REDOCLY_TOOL, "a changed or removed operationId"),
    Rule("server-removed", Level.MAJOR, REDOCLY_TOOL, "a removed server or changed server URL"),
    Rule(
        "parameter-removed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a removed or renamed parameter, or a changed `in`",
    ),
    Rule(
        "parameter-became-required",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a new required parameter (query, header), or one that became required",
    ),
    Rule(
        "parameter-serialization-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a changed style, explode, allowReserved or allowEmptyValue",
    ),
    Rule("request-body-removed", Level.MAJOR, REDOCLY_TOOL, "a removed request body"),
    Rule(
        "request-body-became-required",
        Level.MAJOR,
        REDOCLY_TOOL,
        "an existing request body that became required",
    ),
    Rule("response-removed", Level.MAJOR, REDOCLY_TOOL, "a removed response status"),
    Rule("response-header-removed", Level.MAJOR, REDOCLY_TOOL, "a removed response header"),
    Rule("media-type-removed", Level.MAJOR, REDOCLY_TOOL, "a removed or renamed media type"),
    Rule("property-removed", Level.MAJOR, REDOCLY_TOOL, "a removed property in a response"),
    Rule(
        "required-properties-added",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a property that became required in a request (a new required property too)",
    ),
    Rule(
        "required-properties-removed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a property no longer required in a response",
    ),
    Rule("enum-values-removed", Level.MAJOR, REDOCLY_TOOL, "enum values removed in a request"),
    Rule(
        "enum-values-added",
        Level.MAJOR,
        REDOCLY_TOOL,
        "enum values added in a response: kept major, as openapi.yaml says response enums are "
        "closed",
    ),
    Rule(
        "schema-type-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a type that accepts fewer types in a request or more in a response (path parameters too)",
    ),
    Rule(
        "schema-constraint-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a constraint that accepts fewer values in a request or more in a response (maxLength, "
        "minimum, pattern, format, maxItems, ...)",
    ),
    Rule(
        "schema-combinator-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "an allOf/anyOf/oneOf change that accepts fewer values in a request or more in a response",
    ),
    Rule(
        "security-requirement-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a security list that old credentials cannot pass (new authentication, scheme, scope)",
    ),
    Rule(
        "security-alternative-added",
        Level.MINOR,
        PYTHON_TOOL,
        "a security list that admits every old credential and more (redocly: major)",
    ),
    Rule(
        "security-scheme-changed",
        Level.MAJOR,
        REDOCLY_TOOL,
        "a removed security scheme, or a changed type, scheme, in, name or bearerFormat",
    ),
    Rule(
        "added",
        Level.MINOR,
        REDOCLY_TOOL,
        "anything added that no rule judged: operation, optional property or parameter, "
        "response status, response header",
    ),
    Rule(
        "changed",
        Level.PATCH,
        REDOCLY_TOOL,
        "anything else no rule judged: descriptions, summaries, examples, deprecated flags",
    ),
    # The rules compat.py adds, each where redocly rates a change too low (see the functions).
    Rule(
        "path-parameter-renamed",
        Level.MAJOR,
        PYTHON_TOOL,
        "a renamed path parameter (redocly: not reported, by design)",
        path_parameter_renamed,
    ),
    Rule(
        "security-now-inherited",
        Level.MAJOR,
        PYTHON_TOOL,
        "an operation dropping its own security and inheriting a stricter one (redocly: patch)",
        security_now_inherited,
    ),
    Rule(
        "request-body-added-required",
        Level.MAJOR,
        PYTHON_TOOL,
        "a required request body on an operation that had none (redocly: minor)",
        request_body_added_required,
    ),
    Rule(
        "deprecation-added",
        Level.MINOR,
        PYTHON_TOOL,
        "an operation or parameter newly marked deprecated (redocly: patch; SemVer 7: minor)",
        deprecation_added,
    ),
    Rule(
        "enum-values-added-in-request",
        Level.MINOR,
        PYTHON_TOOL,
        "enum values added to a request-only enum (redocly: patch)",
    ),
    Rule(
        "docs-addition",
        Level.PATCH,
        PYTHON_TOOL,
        "an added example, examples map, externalDocs or tag (redocly: minor)",
    ),
    Rule(
        "unreported-change",
        Level.PATCH,
        PYTHON_TOOL,
        "a change redocly does not report (media-type examples, comments, layout)",
    ),
    # The version rules.
    Rule("version-format", Level.NONE, PYTHON_TOOL, "info.version is MAJOR.MINOR.PATCH"),
    Rule(
        "released-immutable",
        Level.NONE,
        PYTHON_TOOL,
        "NEW with a released version is that release, byte for byte",
    ),
    Rule(
        "version-step",
        Level.NONE,
        PYTHON_TOOL,
        "info.version is the next version the change level needs (same version if none)",
    ),
)


def rules_table() -> str:
    width = max(len(rule.name) for rule in RULES)
    tools = max(len(rule.checked_by) for rule in RULES)
    lines = [f"{'rule':{width}}  impact  {'checked by':{tools}}  what"]
    for rule in RULES:
        impact = str(rule.impact) if rule.impact else "gate"
        lines.append(f"{rule.name:{width}}  {impact:6}  {rule.checked_by:{tools}}  {rule.what}")
    return "\n".join(lines)


# --- redocly diff -------------------------------------------------------------------------------


def redocly_diff(base: Path, new: Path) -> dict[str, Any]:
    """redocly diff's JSON report of the change from base to new."""
    if not REDOCLY.exists():
        raise CompatError(f"Redocly CLI is not installed in {NPM_MODULES}: run `make tools`")
    installed = json.loads((NPM_MODULES / "@redocly" / "cli" / "package.json").read_text())
    if installed["version"] != REDOCLY_VERSION:
        raise CompatError(
            f"Redocly CLI {installed['version']} is installed; contract/compat.py was checked "
            f"against {REDOCLY_VERSION}. Re-run contract/test_compat.py with it, then update "
            "REDOCLY_VERSION and the rule table."
        )
    env = {
        **os.environ,
        # Offline and quiet: no telemetry, update check or announcements.
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        "REDOCLY_SUPPRESS_NOTIFICATIONS": "true",
        "NO_COLOR": "1",
    }
    command = [
        str(REDOCLY),
        "diff",
        str(base),
        str(new),
        "--config",
        str(DIFF_CONFIG),
        "--lint-config",
        "error",
        "--format",
        "json",
        # The verdict is ours (the version rules need the whole report), not redocly's exit code.
        "--fail-on",
        "none",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    try:
        report = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        report = None
    if not isinstance(report, dict) or report.get("reportVersion") != "1":
        raise CompatError(
            f"redocly diff failed (exit {result.returncode}):\n{tool_messages(result.stderr)}"
        )
    return report


def tool_messages(stderr: str) -> str:
    # Node 20 makes Redocly print a boxed deprecation banner first; the error is what follows.
    lines = [line for line in stderr.splitlines() if not re.match(r"\s*[╔║╚]", line)]
    return "\n".join(lines).strip()[-3000:]


def redocly_findings(report: dict[str, Any]) -> list[Finding]:
    findings = []
    for change in report["changes"]:
        if change["path"] == "#/info" and change.get("property") == "version":
            continue  # the version is what the gate checks, not a change of the API
        where = readable(change["path"])
        if change["verdicts"]:
            for verdict in change["verdicts"]:
                location = verdict.get("location") or {}
                at = f" ({Path(location['file']).name}:{location['line']})" if location else ""
                findings.append(
                    Finding(
                        verdict["ruleId"],
                        level(verdict["impact"]),
                        where + at,
                        verdict["message"],
                        REDOCLY_TOOL,
                    )
                )
            continue
        finding = reclassified(change, where)
        if finding is None:
            what = f"{change['typeName']} {change['kind']}"
            if change.get("property"):
                what += f" (`{change['property']}`)"
            rule = "added" if change["kind"] == "added" else "changed"
            finding = Finding(rule, level(change["impact"]), where, what, REDOCLY_TOOL)
        findings.append(finding)
    return findings


def second_opinion(findings: list[Finding], base: Document, new: Document) -> list[Finding]:
    """Redocly rates any change of an operation's security list "authentication became
    required", also one that only adds an alternative: an operation that writes out the
    document's `bearerAuth` and adds `accessToken` still admits every old client. Where every
    credential the old list took meets one of the new alternatives, the change is additive."""
    widened = {}
    for method, _old_path, new_path, old_op, new_op in matched_operations(base, new):
        old_list = old_op.get("security", base.get("security") or [])
        new_list = new_op.get("security", new.get("security") or [])
        required_now = alternatives(new_list)
        if all(admits(old, required_now) for old in alternatives(old_list)):
            widened[f"{method.upper()} {new_path} security"] = new_list
    kept = []
    for finding in findings:
        where = finding.where.split(" (", 1)[0]
        if finding.rule == "security-requirement-changed" and where in widened:
            finding = Finding(
                "security-alternative-added",
                Level.MINOR,
                finding.where,
                f"every old credential still passes `{json.dumps(widened[where])}`",
                PYTHON_TOOL,
            )
        kept.append(finding)
    return kept


def level(impact: str) -> Level:
    try:
        return Level[impact.upper()]
    except KeyError:
        raise CompatError(f"redocly diff reported an unknown impact {impact!r}") from None


# --- the gate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    new: Path
    new_version: str
    base: Path
    base_version: Version
    level: Level
    findings: list[Finding]
    failures: list[Failure]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def rules_fired(self) -> set[str]:
        return {finding.rule for finding in self.findings} | {f.rule for f in self.failures}


def released_contracts(released_dir: Path) -> dict[Version, Path]:
    released = {}
    for path in sorted(released_dir.glob("*.yaml")) if released_dir.is_dir() else []:
        version = Version.parse(path.stem)
        if version is None:
            raise CompatError(f"{show(path)}: a released contract is named MAJOR.MINOR.PATCH.yaml")
        said = (parse_yaml(path.read_text()).get("info") or {}).get("version")
        if str(said) != str(version):
            raise CompatError(f"{show(path)} has info.version {said!r}, not {version}")
        released[version] = path
    return released


def check(
    *, new: Path = CONTRACT, released_dir: Path = RELEASED_DIR, base: Path | None = None
) -> Outcome:
    """Rate the change from the latest release (or base) to new, and check new's version."""
    released = released_contracts(released_dir)
    if base is None:
        if not released:
            raise CompatError(
                f"no released contract in {show(released_dir)}: to release the first, copy "
                f"openapi.yaml to {show(released_dir)}/<its info.version>.yaml (see "
                "contract/README.md, 'Releasing a contract version')"
            )
        base = released[max(released)]
    base_text, base_doc = load(base)
    new_text, new_doc = load(new)
    base_version = Version.parse(base_doc.get("info", {}).get("version"))
    if base_version is None:
        raise CompatError(f"{show(base)}: info.version is not MAJOR.MINOR.PATCH")

    findings = second_opinion(redocly_findings(redocly_diff(base, new)), base_doc, new_doc)
    for rule in RULES:
        if rule.check is not None:
            findings.extend(rule.check(base_doc, new_doc))
    if not findings:
        findings = unreported_changes(base_text, base_doc, new_text, new_doc)
    change = max((finding.impact for finding in findings), default=Level.NONE)

    failures = []
    said = new_doc.get("info", {}).get("version")
    new_version = Version.parse(said)
    if new_version is None:
        failures.append(Failure("version-format", f"info.version {said!r} is not X.Y.Z"))
    else:
        if new_version in released and released[new_version].read_bytes() != new.read_bytes():
            failures.append(
                Failure(
                    "released-immutable",
                    f"{new_version} is released ({show(released[new_version])}) and a released "
                    "contract never changes, but this file differs from it",
                )
            )
        allowed = base_version.allowed_after(change)
        if new_version not in allowed:
            message = step_message(change, base_version, new_version)
            failures.append(Failure("version-step", message))
    return Outcome(new, str(said), base, base_version, change, findings, failures)


def step_message(change: Level, base: Version, new: Version) -> str:
    allowed = " or ".join(str(version) for version in base.allowed_after(change))
    if change is Level.NONE:
        return f"nothing changed since {base}, so info.version stays {base}, not {new}"
    return f"a {change} change from {base} needs info.version {allowed}, not {new}"


def render(outcome: Outcome) -> str:
    lines = [
        f"compat: {show(outcome.new)} ({outcome.new_version}) against "
        f"{show(outcome.base)} ({outcome.base_version})"
    ]
    titles = {Level.MAJOR: "breaking", Level.MINOR: "additive", Level.PATCH: "no effect on clients"}
    for impact, title in titles.items():
        found = [finding for finding in outcome.findings if finding.impact is impact]
        if not found:
            continue
        lines.append(f"{title} ({impact}): {len(found)}")
        # Every breaking change in full; the rest briefly, as they need only the right version.
        shown = found if impact is Level.MAJOR else found[:10]
        for finding in shown:
            lines.append(f"  {finding.where}")
            lines.append(f"    {finding.what}  [{finding.rule}, {finding.tool}]")
        if len(found) > len(shown):
            lines.append(f"  ... and {len(found) - len(shown)} more")
    lines.append(f"change: {outcome.level}")
    lines.extend(f"FAIL {failure.rule}: {failure.message}" for failure in outcome.failures)
    if outcome.ok and outcome.level is Level.NONE:
        lines.append(f"OK: nothing changed since {outcome.base_version}")
    elif outcome.ok:
        lines.append(f"OK: {outcome.new_version} is a right version for a {outcome.level} change")
    return "\n".join(lines)


# --- documents ----------------------------------------------------------------------------------


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader, C or Python)


def load(path: Path) -> tuple[str, Document]:
    if not path.is_file():
        raise CompatError(f"{show(path)} does not exist")
    text = path.read_text()
    document = parse_yaml(text)
    if not isinstance(document, dict):
        raise CompatError(f"{show(path)} is not an OpenAPI document")
    return text, document


def show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def path_variables(path: str) -> list[str]:
    return re.findall(r"\{([^}/]*)\}", path)


def matched_paths(base: Document, new: Document) -> Iterator[tuple[str, str]]:
    """Each base path with its new path: the same, or the one new path of the same shape."""
    base_paths, new_paths = base.get("paths") or {}, new.get("paths") or {}

    def shape(path: str) -> str:
        return re.sub(r"\{[^}/]*\}", "{}", path)

    candidates: dict[str, list[str]] = {}
    for path in new_paths:
        if path not in base_paths:
            candidates.setdefault(shape(path), []).append(path)
    for path in base_paths:
        if path in new_paths:
            yield path, path
        elif len(candidates.get(shape(path), [])) == 1:
            yield path, candidates[shape(path)][0]


def matched_operations(
    base: Document, new: Document
) -> Iterator[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    for old_path, new_path in matched_paths(base, new):
        old_item, new_item = base["paths"][old_path], new["paths"][new_path]
        for method in METHODS:
            if method in old_item and method in new_item:
                yield method, old_path, new_path, old_item[method], new_item[method]


def resolve(document: Document, node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def alternatives(requirements: list[dict[str, list[str]]]) -> list[dict[str, set[str]]]:
    """Security requirements as alternatives of {scheme: scopes}; [] means no authentication."""
    return [{name: set(scopes) for name, scopes in item.items()} for item in requirements] or [{}]


def admits(credentials: dict[str, set[str]], required: list[dict[str, set[str]]]) -> bool:
    """Whether a client that met one old alternative meets one of the new ones."""
    return any(
        all(name in credentials and scopes <= credentials[name] for name, scopes in option.items())
        for option in required
    )


def without_version(document: Document) -> Document:
    info = {key: value for key, value in (document.get("info") or {}).items() if key != "version"}
    return {**document, "info": info}


def text_without_version(text: str) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value if isinstance(root, yaml.MappingNode) else []:
        if key.value == "info" and isinstance(value, yaml.MappingNode):
            for info_key, info_value in value.value:
                if info_key.value == "version":
                    start, end = info_value.start_mark.index, info_value.end_mark.index
                    return text[:start] + text[end:]
    return text


def first_difference(base: Any, new: Any, pointer: str = "#") -> str | None:
    if type(base) is not type(new):
        return pointer
    if isinstance(base, dict):
        for key in [*base, *(key for key in new if key not in base)]:
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in base or key not in new:
                return here
            found = first_difference(base[key], new[key], here)
            if found is not None:
                return found
        return None
    if isinstance(base, list):
        for index, (old, current) in enumerate(zip(base, new, strict=False)):
            found = first_difference(old, current, f"{pointer}/{index}")
            if found is not None:
                return found
        return None if len(base) == len(new) else f"{pointer}/{min(len(base), len(new))}"
    return None if base == new else pointer


def readable(pointer: str) -> str:
    """'#/paths/~1tasks~1{id}~1/delete/responses' as 'DELETE /tasks/{id}/ responses'."""
    parts = [
        part.replace("~1", "/").replace("~0", "~")
        for part in pointer.removeprefix("#").strip("/").split("/")
        if part
    ]
    if len(parts) < 2 or parts[0] != "paths":
        return pointer
    head, rest = parts[1], parts[2:]
    if rest and rest[0] in METHODS:
        head, rest = f"{rest[0].upper()} {head}", rest[1:]
    return " ".join([head, "/".join(rest)]) if rest else head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contract.compat",
        description="Fail on a breaking change to the contract without a new major version.",
    )
    parser.add_argument("new", nargs="?", type=Path, default=CONTRACT, help="default openapi.yaml")
    parser.add_argument("--base", type=Path, help="compare with this file, not the latest release")
    parser.add_argument("--released-dir", type=Path, default=RELEASED_DIR)
    parser.add_argument("--rules", action="store_true", help="print the rules and who checks them")
    args = parser.parse_args(argv)
    if args.rules:
        print(rules_table())
        return 0
    try:
        outcome = check(new=args.new, released_dir=args.released_dir, base=args.base)
    except CompatError as error:
        print(f"compat: error: {error}", file=sys.stderr)
        return 2
    print(render(outcome))
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
