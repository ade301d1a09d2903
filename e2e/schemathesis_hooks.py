"""Schemathesis hooks of TestSchemathesis (schemathesis.toml loads them).

Schemathesis reads a pattern's Unicode property escapes as approximations
written for Python's `re`: `\\p{L}` as Latin letters only, `\\p{M}` as ranges
that include unassigned code points (U+20F1 to U+20FF), and so on. It
generates from them and judges its own cases by them. So a request body
labelled positive may be one api/openapi.yaml does not admit (a name with
an unassigned U+20F3), which the service rightly refuses, and one labelled
negative may be one the document admits (a name in Greek letters), which
the service rightly accepts; the checks would then report the service.

This hook corrects the labels, not the checks: it judges each generated
request body by the document's own schema, patterns as written (with
jsonschema-rs, whose regular expressions read `\\p{..}` with the real
Unicode tables), and drops the cases whose label that contradicts. It
counts what it drops in $SCHEMATHESIS_DROPPED_LOG, which the test reports.
"""

import functools
import os

import jsonschema_rs
import schemathesis
import yaml
from schemathesis.core.parameters import ParameterLocation

_DOCUMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api", "openapi.yaml")
_LOG = os.environ.get("SCHEMATHESIS_DROPPED_LOG")


@functools.cache
def _document() -> dict:
    with open(_DOCUMENT, encoding="utf-8") as f:
        return yaml.safe_load(f)


@functools.cache
def _body_validator(path: str, method: str, media_type: str):
    """The document's schema of the operation's request body, with its
    references to components resolved in the document; None if it has none."""
    doc = _document()
    operation = doc["paths"].get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get(media_type)
    if content is None or "schema" not in content:
        return None
    schema = dict(content["schema"], components=doc["components"])
    return jsonschema_rs.Draft4Validator(schema)


def _record(case, label: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{case.operation.label}\t{label}\n")


@schemathesis.hook
def filter_case(context, case) -> bool:
    meta = case.meta
    if meta is None or case.media_type is None:
        return True
    body = meta.components.get(ParameterLocation.BODY)
    if body is None:
        return True
    validator = _body_validator(case.operation.path, case.method, case.media_type)
    if validator is None:
        return True
    try:
        valid = validator.is_valid(case.body)
    except ValueError:
        return True  # raw bytes, not a JSON document: nothing to relabel
    if body.mode.is_positive and not valid:
        _record(case, "positive body the document does not admit")
        return False
    others_negative = any(info.mode.is_negative for loc, info in meta.components.items() if loc != ParameterLocation.BODY)
    if body.mode.is_negative and valid and not others_negative:
        _record(case, "negative body the document admits")
        return False
    return True
