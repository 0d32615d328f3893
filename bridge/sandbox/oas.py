"""Checks HTTP exchanges against Asana's OpenAPI 3.0 description (asana_oas.yaml).

Over the ~300 lines of STYLE.md on purpose: a reader of a generated spec follows the spec's shape.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

__all__ = ["Exchange", "OpenApiSpec", "Operation"]

_METHODS = ("get", "post", "put", "patch", "delete")
_JSON = "application/json"
_API_PREFIX = "/api/1.0"

# Where the spec and the live API disagree, the live API wins. Every patch names its evidence:
# - createWebhook's own documented 201 example returns null for last_success_at/last_failure_at/
#   last_failure_content, yet WebhookResponse does not declare them nullable;
# - EventResponse.user is null for system events and parent is null unless action is added/removed
#   (Asana webhook docs, shared/reference/asana.md §1.4);
# - custom_fields values may be null to clear a value (TaskUpdateRequest docs, reference §4).
_NULLABLE_PATCHES: tuple[tuple[str, str], ...] = (
    ("WebhookResponse", "last_success_at"),
    ("WebhookResponse", "last_failure_at"),
    ("WebhookResponse", "last_failure_content"),
    ("WebhookResponse", "next_attempt_after"),
    ("WebhookResponse", "failure_deletion_timestamp"),
    ("EventResponse", "user"),
    ("EventResponse", "parent"),
)
# POST /tasks takes `memberships: [{project, section}]` (gids) although TaskBase marks the field
# read-only with compact objects (reference §5.1); a write-only copy of the chain is used for creates.
_WRITABLE_MEMBERSHIPS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"project": {"type": "string"}, "section": {"type": "string"}},
        "required": ["project"],
    },
}
# Query parameters the official `asana` client sends where the spec does not declare them: it adds
# `limit` to every collection call (also /events and /workspaces/{gid}/users), and endpoints taking
# opts['body'] also send the body as a `?body=` query string (reference §6.3). Both are tolerated.
_SDK_QUERY_EXTRAS = frozenset({"limit", "body"})
# `completed_since` is documented to accept the keyword "now" even where the schema says date-time.
_DATE_TIME_KEYWORDS = {"completed_since": frozenset({"now"})}
# Asana puts resource_subtype on compact resources (events, parents) although most compact schemas
# omit it; strict response checks allow it everywhere.
_STRICT_TOLERATED = frozenset({"resource_subtype"})

_CACHE: dict[Path, OpenApiSpec] = {}
_CACHE_LOCK = threading.Lock()


class Exchange(Protocol):
    """One recorded API call: what the emulator stores in `requests`."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> Any: ...
    @property
    def status(self) -> int: ...
    @property
    def response(self) -> Any: ...


@dataclass
class Operation:
    """An operation of the spec with its parameters and bodies already resolved."""

    method: str
    template: str
    operation_id: str
    parameters: dict[str, dict[str, Any]]
    request_schema: dict[str, Any] | None
    request_required: bool
    responses: dict[Any, Any]  # YAML keys: ints for codes, "default"
    _regex: re.Pattern[str] = field(repr=False, default=re.compile(""))
    _literals: int = 0


def _check_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    date.fromisoformat(value)
    return True


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        return False
    datetime.fromisoformat(value)
    return True


def _check_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc)


def _format_checker() -> FormatChecker:
    # openapi-schema-validator's OAS 3.0 checker ignores date/date-time/uri/email; Asana's fields use them.
    checker = FormatChecker(formats=())
    checker.checks("date", raises=ValueError)(_check_date)
    checker.checks("date-time", raises=ValueError)(_check_date_time)
    checker.checks("uri")(_check_uri)
    checker.checks("email")(lambda v: not isinstance(v, str) or "@" in v)
    return checker


def _make_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    out["nullable"] = True
    if "allOf" in out:
        out["allOf"] = [_make_nullable(m) for m in out["allOf"]]
    return out


def _fix_nullable_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    # OAS 3.0 writes "nullable object" as allOf[$ref, {nullable: true}]; the validator applies nullable
    # per subschema only, so a null would fail the $ref member. Spread nullable over every member.
    members = schema.get("allOf")
    if isinstance(members, list) and (
        schema.get("nullable") is True or any(isinstance(m, dict) and m.get("nullable") is True for m in members)
    ):
        return _make_nullable(schema)
    return schema


class OpenApiSpec:
    """The parsed spec: find the operation of a concrete request and validate both directions."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._doc = document
        self._resolved: dict[str, Any] = {}
        self._resolving: set[str] = set()
        self._validators: dict[tuple[str, str, str], Any] = {}
        self._checker = _format_checker()
        self._patch()
        self._operations = self._build_operations()

    @classmethod
    def load(cls, path: str | Path) -> OpenApiSpec:
        """Parse the spec once per process and path (the file is 3 MB)."""
        key = Path(path).resolve()
        with _CACHE_LOCK:
            spec = _CACHE.get(key)
            if spec is None:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                with key.open("rb") as fh:
                    document = yaml.load(fh, Loader=loader)  # a safe loader either way
                spec = cls(document)
                _CACHE[key] = spec
            return spec

    # ---------------------------------------------------------------- preparation

    def _patch(self) -> None:
        schemas: dict[str, Any] = self._doc["components"]["schemas"]
        for schema_name, prop in _NULLABLE_PATCHES:
            for member in self._object_members(schemas[schema_name]):
                if prop in member.get("properties", {}):
                    member["properties"][prop] = {**member["properties"][prop], "nullable": True}
        for member in self._object_members(schemas["TaskRequestBase"]):
            values = member.get("properties", {}).get("custom_fields", {}).get("additionalProperties")
            if isinstance(values, dict):
                values["nullable"] = True
        base = copy.deepcopy(schemas["TaskBase"])
        for member in self._object_members(base):
            if "memberships" in member.get("properties", {}):
                member["properties"]["memberships"] = _WRITABLE_MEMBERSHIPS
        schemas["TaskBase__create"] = base
        request_base = copy.deepcopy(schemas["TaskRequestBase"])
        request_base["allOf"][0] = {"$ref": "#/components/schemas/TaskBase__create"}
        schemas["TaskRequestBase__create"] = request_base
        create = schemas["TaskCreateRequest"]
        create["allOf"][0] = {"$ref": "#/components/schemas/TaskRequestBase__create"}

    @staticmethod
    def _object_members(schema: dict[str, Any]) -> list[dict[str, Any]]:
        return [schema, *[m for m in schema.get("allOf", []) if isinstance(m, dict)]]

    def _lookup(self, ref: str) -> Any:
        node: Any = self._doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node: Any) -> Any:
        """Inline every $ref (memoised per component) and normalise nullable allOf."""
        if isinstance(node, list):
            return [self.resolve(x) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "description", "example")}
            target = self._resolve_ref(ref)
            if siblings and isinstance(target, dict):
                # OAS 3.0 ignores $ref siblings, but Asana uses them (readOnly, nullable) meaningfully.
                return _fix_nullable_all_of({**target, **self.resolve(siblings)})
            return target
        # Annotations (description, example) stay: validators ignore them, and under `properties` they are names.
        out = {k: self.resolve(v) for k, v in node.items()}
        return _fix_nullable_all_of(out)

    def _resolve_ref(self, ref: str) -> Any:
        done = self._resolved.get(ref)
        if done is not None:
            return done
        if ref in self._resolving:
            # A recursive schema: accept anything below the cycle rather than recurse forever.
            return {}
        self._resolving.add(ref)
        try:
            resolved = self.resolve(self._lookup(ref))
        finally:
            self._resolving.discard(ref)
        self._resolved[ref] = resolved
        return resolved

    def _build_operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for template, item in self._doc["paths"].items():
            shared = item.get("parameters", [])
            for method in _METHODS:
                op = item.get(method)
                if op is None:
                    continue
                params: dict[str, dict[str, Any]] = {}
                for raw in [*shared, *op.get("parameters", [])]:
                    param = self._lookup(raw["$ref"]) if "$ref" in raw else raw
                    params[f"{param['in']}:{param['name']}"] = param
                request_schema = None
                required = False
                body = op.get("requestBody")
                if body is not None:
                    body = self._lookup(body["$ref"]) if "$ref" in body else body
                    required = bool(body.get("required", False))
                    media = body.get("content", {}).get(_JSON)
                    if media is not None:
                        request_schema = media.get("schema")
                segments = template.strip("/").split("/")
                pattern = "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
                ops.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=str(op.get("operationId", "")),
                        parameters=params,
                        request_schema=request_schema,
                        request_required=required,
                        responses=op.get("responses", {}),
                        _regex=re.compile(f"^/{pattern}/?$"),
                        _literals=sum(1 for s in segments if not s.startswith("{")),
                    )
                )
        return ops

    # ---------------------------------------------------------------- lookup

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The operation for a concrete path such as /tasks/123/addProject (most literal template wins)."""
        path = urlparse(path).path.removeprefix(_API_PREFIX) or "/"
        candidates = [op for op in self._operations if op.method == method.upper() and op._regex.match(path)]
        if not candidates:
            return None
        return max(candidates, key=lambda op: op._literals)

    def _validator(self, key: tuple[str, str, str], schema: Any, *, write: bool) -> Any:
        validator = self._validators.get(key)
        if validator is None:
            cls = OAS30WriteValidator if write else OAS30ReadValidator
            validator = cls(self.resolve(schema), format_checker=self._checker)
            self._validators[key] = validator
        return validator

    @staticmethod
    def _errors(validator: Any, instance: Any, where: str) -> list[str]:
        out = set()
        for err in validator.iter_errors(instance):
            at = "/".join(str(p) for p in err.absolute_path)
            message = err.message if len(err.message) <= 200 else err.message[:200] + "…"
            out.add(f"{where}{'/' + at if at else ''}: {message}")
        return sorted(out)

    # ---------------------------------------------------------------- requests

    def validate_request(self, method: str, path: str, query: Mapping[str, Any] | None, body: Any) -> list[str]:
        """Errors for one request: unknown operation, bad or unknown query parameters, bad JSON body."""
        op = self.find_operation(method, path)
        if op is None:
            return [f"{method.upper()} {path}: no such operation in the spec"]
        where = f"{op.method} {op.template}"
        errors: list[str] = []
        query = dict(query or {})
        for key, declared in op.parameters.items():
            location, name = key.split(":", 1)
            if location == "query" and declared.get("required") and name not in query:
                errors.append(f"{where}: missing required query parameter {name!r}")
        for name, raw in query.items():
            param: dict[str, Any] | None = op.parameters.get(f"query:{name}")
            if param is None:
                if name not in _SDK_QUERY_EXTRAS or (name == "body" and op.request_schema is None):
                    errors.append(f"{where}: unknown query parameter {name!r}")
                    continue
                if name == "body":
                    continue
                param = self._lookup("#/components/parameters/limit")
            errors.extend(self._check_query_value(op, name, raw, param.get("schema", {})))
        if op.request_schema is None:
            # The client sends "{}" as the body of every DELETE (rest.py): an empty object is no body.
            if body not in (None, b"", "", {}):
                errors.append(f"{where}: the operation takes no request body")
            return errors
        if body is None:
            if op.request_required:
                errors.append(f"{where}: missing request body")
            return errors
        schema = self.resolve(op.request_schema)
        if "data" in schema.get("properties", {}) and not (isinstance(body, dict) and "data" in body):
            errors.append(f"{where}: request body lacks the {{'data': ...}} envelope")
        validator = self._validator((op.method, op.template, "request"), op.request_schema, write=True)
        errors.extend(self._errors(validator, body, f"{where} body"))
        return errors

    def _check_query_value(self, op: Operation, name: str, raw: Any, schema: dict[str, Any]) -> list[str]:
        where = f"{op.method} {op.template} ?{name}"
        schema = self.resolve(schema)
        text = raw if isinstance(raw, str) else str(raw)
        kind = schema.get("type")
        value: Any = text
        try:
            if kind == "integer":
                value = int(text)
            elif kind == "number":
                value = float(text)
            elif kind == "boolean":
                if text.lower() not in ("true", "false"):
                    return [f"{where}: {text!r} is not a boolean"]
                value = text.lower() == "true"
            elif kind == "array":
                # style=form, explode=false: one comma-separated string
                value = [part for part in text.split(",") if part != ""]
        except ValueError:
            return [f"{where}: {text!r} is not of type {kind}"]
        if kind == "string" and schema.get("format") == "date-time" and text in _DATE_TIME_KEYWORDS.get(name, ()):
            return []
        validator = OAS30WriteValidator(schema, format_checker=self._checker)
        return self._errors(validator, value, where)

    # ---------------------------------------------------------------- responses

    def validate_response(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        strict: bool = False,
        requested: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Errors for one response; `strict` also flags properties the schema does not declare.

        `requested` names properties asked for with opt_fields: Asana returns them even where the documented
        schema is the compact one (list endpoints), so strict mode accepts them.
        """
        op = self.find_operation(method, path)
        if op is None:
            return [f"{method.upper()} {path}: no such operation in the spec"]
        where = f"{op.method} {op.template} -> {status}"
        response = op.responses.get(status, op.responses.get(str(status)))
        if response is None:
            if status >= 400:
                # Asana returns 412/429/5xx on operations that do not list them; they carry the error envelope.
                response = {"content": {_JSON: {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
            else:
                return [f"{where}: status not documented for this operation"]
        if "$ref" in response:
            response = self._lookup(response["$ref"])
        media = response.get("content", {}).get(_JSON)
        if media is None or "schema" not in media:
            return [] if body in (None, b"", "") else [f"{where}: the spec documents no JSON body"]
        if body is None:
            return [f"{where}: missing JSON body"]
        validator = self._validator((op.method, op.template, str(status)), media["schema"], write=False)
        errors = self._errors(validator, body, where)
        if strict:
            errors.extend(self._undeclared(body, self.resolve(media["schema"]), where, requested))
        return errors

    def _declared(self, schema: Any) -> dict[str, list[Any]] | None:
        """Property name -> subschemas, merged over allOf/anyOf/oneOf; None when free-form."""
        if not isinstance(schema, dict):
            return None
        found: dict[str, list[Any]] = {}
        free = True
        for name, sub in schema.get("properties", {}).items():
            found.setdefault(name, []).append(sub)
            free = False
        for key in ("allOf", "anyOf", "oneOf"):
            for member in schema.get(key, []):
                inner = self._declared(member)
                if inner is not None:
                    free = False
                    for name, subs in inner.items():
                        found.setdefault(name, []).extend(subs)
        return None if free else found

    def _undeclared(self, instance: Any, schema: Any, where: str, requested: frozenset[str] = frozenset()) -> list[str]:
        errors: list[str] = []
        if isinstance(instance, list) and isinstance(schema, dict):
            items = schema.get("items")
            for i, item in enumerate(instance):
                errors.extend(self._undeclared(item, items, f"{where}/{i}", requested))
            return errors
        if not isinstance(instance, dict):
            return errors
        declared = self._declared(schema)
        if declared is None:
            return errors
        for key, value in instance.items():
            subs = declared.get(key)
            if subs is None:
                if key not in _STRICT_TOLERATED and key not in requested:
                    errors.append(f"{where}/{key}: property not declared in the spec")
                continue
            for sub in subs:
                if isinstance(sub, dict) and (self._declared(sub) is not None or "items" in sub):
                    errors.extend(self._undeclared(value, sub, f"{where}/{key}", requested))
                    break
        return errors

    # ---------------------------------------------------------------- recorded traffic

    def validate_exchanges(self, exchanges: Iterable[Exchange], *, strict: bool = False) -> list[str]:
        """Errors over recorded calls (request and response); a dropped connection has status 0."""
        errors: list[str] = []
        for ex in exchanges:
            errors.extend(self.validate_request(ex.method, ex.path, ex.query, ex.body))
            if ex.status:
                fields = str((ex.query or {}).get("opt_fields") or "")
                requested = frozenset(part.strip() for path in fields.split(",") for part in path.split("."))
                errors.extend(
                    self.validate_response(
                        ex.method, ex.path, ex.status, ex.response, strict=strict, requested=requested
                    )
                )
        return errors
