"""Wire schemas: one declaration per request and response body, documented from itself.

A body's shape is a ``msgspec.Struct`` (camelCase on the wire, ``forbid_unknown_fields``
exactly when the route refuses unknown keys). The OpenAPI document's request and response
schemas are generated from those Structs (:func:`request_body`, :func:`response`) and
replace whatever FastAPI would infer from a ``dict[str, Any]`` parameter, so the document
cannot say anything the declaration does not; routes that refuse unknown keys take the
allowed set from the same Struct (:func:`field_names`), so the two cannot drift (ADR 0023).
Values are still parsed by the bounded parsers (ADR 0006): the Structs describe, they do
not validate, which keeps every problem body byte-for-byte what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import msgspec.inspect

from stripemeter_server.domain.errors import ValidationError

# A decimal given as a JSON string or number (quantities, amounts): read exactly either way.
DecimalInput = Annotated[str, msgspec.Meta(extra_json_schema={"type": ["string", "number"]})]
# An exact decimal the API writes: always a string.
DecimalText = Annotated[str, msgspec.Meta(extra_json_schema={"format": "decimal"})]
# RFC 3339 instant with offset, as read and written.
Instant = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
# Any JSON value the route hands on untouched (a metadata object, a filter).
JsonObject = dict[str, Any]
UNSET = msgspec.UNSET
DECLARED_BODY = "x-declared-request-body"
Unset = msgspec.UnsetType


def schema_of(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The Struct's JSON schema with every ``$ref`` inlined (bodies are never recursive), so
    an operation's schema stands alone in the document."""
    generated = msgspec.json.schema(struct)
    definitions: dict[str, Any] = generated.pop("$defs", {})
    inlined: dict[str, Any] = _inline(generated, definitions)
    return inlined


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def field_names(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The keys the body may carry, as spelled on the wire."""
    return frozenset(struct.__struct_encode_fields__)


def refuse_unknown(body: object, struct: type[msgspec.Struct]) -> dict[str, Any]:
    """``body`` as an object whose every key ``struct`` declares; otherwise the problem a
    strict body has always answered (``invalid_body``, or ``unknown_field`` naming the first
    unknown key in sorted order)."""
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - field_names(struct))
    if unknown:
        raise ValidationError(
            f"unknown field: {unknown[0]}", code="unknown_field", field=unknown[0]
        )
    return body


def render(answer: msgspec.Struct, *, exact: bool = False) -> dict[str, Any]:
    """The answer as the JSON object the route returns: keys in the declaration's order, an
    unset optional key left out, ``None`` kept as ``null``. ``exact`` keeps the ``Decimal``
    numbers of a value handed on untouched (an event's metadata) for the exact encoder
    (``serialize.json_response_body``) instead of turning them into strings."""
    built: dict[str, Any] = msgspec.to_builtins(answer, builtin_types=(Decimal,) if exact else ())
    return built


def refuses_unknown(struct: type[msgspec.Struct]) -> bool:
    return bool(struct.__struct_config__.forbid_unknown_fields)


def request_body(
    struct: type[msgspec.Struct],
    *,
    examples: tuple[dict[str, Any], ...] = (),
    required: bool = True,
    media_types: tuple[str, ...] = ("application/json",),
) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body is ``struct``."""
    schema = schema_of(struct)
    if examples:
        schema["examples"] = list(examples)
    return declared_body(
        {
            "required": required,
            "content": {media: {"schema": schema} for media in media_types},
        }
    )


def declared_body(request_body_object: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` carrying a whole OpenAPI request body object. It travels under its
    own key because FastAPI would merge a ``requestBody`` into the one it infers (and
    concatenate the examples); ``install_openapi`` puts it in place instead."""
    return {DECLARED_BODY: request_body_object}


def response(
    struct: type[msgspec.Struct], description: str = "Successful Response"
) -> dict[str, Any]:
    """One entry of a route's ``responses`` whose JSON body is ``struct`` (put in place of
    the inferred one by ``install_openapi``)."""
    return {
        "description": description,
        DECLARED_BODY: {"application/json": {"schema": schema_of(struct)}},
    }


class Body(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """A request body whose route ignores keys it does not know."""


class StrictBody(Body, forbid_unknown_fields=True):
    """A request body whose route refuses a key it does not know (``unknown_field``)."""


@dataclass(frozen=True)
class Shape:
    """The keys a body may carry, and the shapes of its nested declared objects."""

    keys: frozenset[str]
    nested: tuple[tuple[str, Shape], ...] = ()


def shape_of(struct: type[msgspec.Struct]) -> Shape:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return _shape(info)


def _shape(info: msgspec.inspect.StructType) -> Shape:
    nested = []
    for field in info.fields:
        inner = _struct_in(field.type)
        if inner is not None:
            nested.append((field.encode_name, _shape(inner)))
    return Shape(frozenset(f.encode_name for f in info.fields), tuple(nested))


def _struct_in(info: msgspec.inspect.Type) -> msgspec.inspect.StructType | None:
    """The declared object a field holds: itself, in a list, or in a union with null."""
    if isinstance(info, msgspec.inspect.StructType):
        return info
    if isinstance(info, msgspec.inspect.ListType):
        return _struct_in(info.item_type)
    if isinstance(info, msgspec.inspect.UnionType):
        found = [s for s in map(_struct_in, info.types) if s is not None]
        return found[0] if found else None
    return None


def declared(shape: Shape, value: Any) -> Any:
    """``value`` with every key its declaration lacks left out, at every declared level.

    Routes that ignore unknown keys hand their use case only this, so a key the code reads
    but the schema does not declare never reaches the code: such a drift breaks the
    feature's own tests instead of hiding in the document. Anything not an object is
    returned as it is, for the bounded parsers to refuse as before.
    """
    if not isinstance(value, dict):
        if isinstance(value, list):
            return [declared(shape, item) for item in value]
        return value
    if value.keys() <= shape.keys and not shape.nested:
        return value
    kept = {key: item for key, item in value.items() if key in shape.keys}
    for key, inner in shape.nested:
        if key in kept:
            kept[key] = declared(inner, kept[key])
    return kept
