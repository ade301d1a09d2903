"""Schemathesis hooks of TestSchemathesis (schemathesis.toml loads them).

Schemathesis draws strings for a pattern from Python approximations of its
Unicode property classes, and does not always check the draw against the
pattern itself: `\\p{M}` is drawn from ranges that include unassigned code
points (U+20F1 to U+20FF), a negated class such as `[^\\p{C}]` from nearly
anything. A request body drawn that way is labelled positive but is not
what api/openapi.yaml admits, and the service rightly refuses it; the
positive_data_acceptance check would then report the service. The other
way round, a body labelled negative may happen to be valid.

This hook corrects the labels, not the checks: it drops a generated case
whose body the document's own schema (checked by Schemathesis' validator,
jsonschema-rs) contradicts its label, so every case the checks judge is
what it claims to be. It counts what it drops in
$SCHEMATHESIS_DROPPED_LOG, which the test reports.
"""

import os

import schemathesis
from schemathesis.core.parameters import ParameterLocation

_LOG = os.environ.get("SCHEMATHESIS_DROPPED_LOG")


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
    definition = next((b for b in case.operation.body if b.media_type == case.media_type), None)
    if definition is None:
        return True
    try:
        valid = definition.is_valid(case.body)
    except ValueError:
        return True  # raw bytes, not a JSON document: nothing to relabel
    if body.mode.is_positive and not valid:
        _record(case, "positive body the schema does not admit")
        return False
    others_negative = any(info.mode.is_negative for loc, info in meta.components.items() if loc != ParameterLocation.BODY)
    if body.mode.is_negative and valid and not others_negative:
        _record(case, "negative body the schema admits")
        return False
    return True
