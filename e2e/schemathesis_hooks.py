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
Unicode tables), and by what the document says in extensions where JSON
Schema cannot (x-normalized: the service checks the value once trimmed of
white space and in Unicode NFC; x-max-utf8-bytes; x-idna: the domain of an
email converts to ASCII with IDNA's lookup profile; x-unique-by: no two
items of the array with the same value of that property). It drops the
cases whose label that contradicts, and counts them in
$SCHEMATHESIS_DROPPED_LOG, which the test reports.

x-idna is applied with the idna package (IDNA 2008 after UTS 46 mapping),
the service's with golang.org/x/net/idna (UTS 46 processing), which also
applies the bidi rule to every label of a domain with a right-to-left
label, and counts bytes where it looks for hyphens in a label's third and
fourth places: so does _idna_converts. They agree on the domains the
pattern admits that Schemathesis generates (Latin letters, marks, digits,
hyphens); where they part (labels longer than DNS allows, IDNA 2008's
contextual rules), the idna package is the stricter, so a case it refuses
is at worst dropped.

The staff's run (SCHEMATHESIS_SKU_PREFIX set: TestSchemathesis' second
invocation, limited to /v1/admin/*, with a staff member's token) changes
the catalog, which the other end-to-end tests share with it: a PATCH or a
stock change of a seeded SKU (the document's own examples name
COF-ESP-250) would archive, reprice or empty a product they order. So its
cases are confined to products of its own: every {sku} of a path, and the
sku of a request body when the document admits it, gets the run's prefix
(a SKU no seed and no other run has), unless it has it already (a link's
value from a product the run created). A body's sku the document refuses is
left as it is: prefixed, it could become one the document admits, and the
case would lie about its label; the service refuses it, writing nothing.
An admitted one stays admitted (the prefix is of SKU characters, and the
result is cut to the document's maxLength), so no label changes.
"""

import functools
import os
import re
import unicodedata

import idna
import jsonschema_rs
import schemathesis
import yaml
from schemathesis.core.parameters import ParameterLocation

_DOCUMENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api", "openapi.yaml")
_LOG = os.environ.get("SCHEMATHESIS_DROPPED_LOG")
# The white space x-normalized trims: Go's unicode.IsSpace, as the services'
# strings.TrimSpace (Python's str.strip() trims other characters too).
_WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


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
    return jsonschema_rs.Draft4Validator(schema), content["schema"]


def _resolve(schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        node = _document()
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema if isinstance(schema, dict) else {}


def _as_the_service_reads(value, schema: dict):
    """The value as the document's extensions say the service checks it, and
    whether those extensions admit it."""
    schema = _resolve(schema)
    ok = True
    if isinstance(value, str):
        if schema.get("x-normalized") == ["trim", "NFC"]:
            value = unicodedata.normalize("NFC", value.strip(_WHITE_SPACE))
        elif schema.get("x-normalized") == ["NFC"]:
            value = unicodedata.normalize("NFC", value)
        limit = schema.get("x-max-utf8-bytes")
        if limit is not None and len(value.encode("utf-8", "surrogatepass")) > limit:
            ok = False
        if schema.get("x-idna") == "lookup" and not _idna_converts(value.rpartition("@")[2]):
            ok = False
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        value = dict(value)
        for key in value:
            if key in props:
                value[key], fine = _as_the_service_reads(value[key], props[key])
                ok = ok and fine
    elif isinstance(value, list):
        items = schema.get("items", {})
        read = [_as_the_service_reads(item, items) for item in value]
        value = [item for item, _ in read]
        ok = all(fine for _, fine in read)
        key = schema.get("x-unique-by")
        if key is not None:
            seen = [item[key] for item in value if isinstance(item, dict) and key in item]
            ok = ok and all(seen.count(v) == 1 for v in seen)
    return value, ok


def _idna_converts(domain: str) -> bool:
    """Whether IDNA's lookup (UTS 46 nontransitional mapping, STD3 rules)
    converts domain to ASCII, as the service checks a new account's email."""
    try:
        mapped = idna.decode(idna.encode(domain, uts46=True, std3_rules=True, transitional=False))
        # Hyphens in the third and fourth places: the Go package counts
        # the places in bytes of UTF-8, not in characters.
        if any(len(b) > 4 and b[2:4] == b"--" for b in (label.encode() for label in mapped.split("."))):
            return False
        if any(unicodedata.bidirectional(c) in ("R", "AL", "AN") for c in mapped):
            for label in mapped.split("."):
                if label:
                    idna.check_bidi(label, check_ltr=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def _record(case, label: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{case.operation.label}\t{label}\n")


# The staff's run: the prefix of its products' SKUs (none in the customer's).
_SKU_PREFIX = os.environ.get("SCHEMATHESIS_SKU_PREFIX", "")


@functools.cache
def _sku_schema() -> dict:
    """CreateProductRequest's sku: the SKUs the document admits."""
    return _document()["components"]["schemas"]["CreateProductRequest"]["properties"]["sku"]


def _own_sku(sku):
    """sku confined to the run's products: with the run's prefix, cut to the
    document's maxLength, if it is a SKU the document admits; as it is if
    not (the service refuses it) or if it has the prefix already."""
    schema = _sku_schema()
    if not isinstance(sku, str) or sku.startswith(_SKU_PREFIX):
        return sku
    if not (schema["minLength"] <= len(sku) <= schema["maxLength"] and re.fullmatch(schema["pattern"].strip("^$"), sku)):
        return sku
    return (_SKU_PREFIX + sku)[: schema["maxLength"]]


def _own_path_sku(sku):
    """A {sku} of a path confined to the run's products: every value the
    service could read as a SKU gets the prefix. A list goes on the wire as
    its items joined by commas (OpenAPI's simple style), so one of a single
    item is that item."""
    if isinstance(sku, str):
        return sku if sku.startswith(_SKU_PREFIX) else _SKU_PREFIX + sku
    if isinstance(sku, list) and sku:
        return [_own_path_sku(sku[0]), *sku[1:]]
    return sku  # a number, a boolean, null, an object (k,v): never a SKU


def _confined(operation) -> bool:
    """Whether the operation's cases are confined: the staff's, in their run."""
    return bool(_SKU_PREFIX) and operation is not None and operation.path.startswith("/v1/admin/")


def _confine_path(path_parameters):
    """The path parameters with {sku} confined; the same object if that
    changes nothing."""
    if isinstance(path_parameters, dict) and "sku" in path_parameters:
        sku = _own_path_sku(path_parameters["sku"])
        if sku != path_parameters["sku"]:
            return dict(path_parameters, sku=sku)
    return path_parameters


def _confine_body(body):
    """The body with its sku confined; the same object if that changes
    nothing."""
    if isinstance(body, dict) and "sku" in body:
        sku = _own_sku(body["sku"])
        if sku != body["sku"]:
            return dict(body, sku=sku)
    return body


# The generated path parameters and bodies are confined as they are drawn,
# before Schemathesis makes a case of them: what it changes in a case
# afterwards it takes for a value given to it (a link's), which its
# ensure_resource_availability check then expects to name a product just
# created. Since the SKUs it draws include those of other operations'
# answers (the staff's list names every product, the seeded ones too),
# this is where most of the confining happens.
@schemathesis.hook
def map_path_parameters(context, path_parameters):
    return _confine_path(path_parameters) if _confined(context.operation) else path_parameters


@schemathesis.hook
def map_body(context, body):
    return _confine_body(body) if _confined(context.operation) else body


def _confine(case) -> None:
    """Confines the staff's case to the run's products (see the module's
    documentation); nothing in the customer's run. For what no map_ hook
    saw: the document's examples, the coverage phase's cases, and a link's
    values (which, from a product the run created, have the prefix)."""
    if not _confined(case.operation):
        return
    # Set only when changed: a set marks the container for Schemathesis to
    # judge again.
    if (path := _confine_path(case.path_parameters)) is not case.path_parameters:
        case.path_parameters = path
    if (body := _confine_body(case.body)) is not case.body:
        case.body = body


@schemathesis.hook
def before_add_examples(context, examples) -> None:
    # The document's examples (COF-ESP-250 among them) are no generated
    # case: filter_case never sees them.
    for case in examples:
        _confine(case)


@schemathesis.hook
def filter_case(context, case) -> bool:
    # Confined first, so that what follows judges the case as it is sent.
    _confine(case)
    meta = case.meta
    if meta is None or case.media_type is None:
        return True
    body = meta.components.get(ParameterLocation.BODY)
    if body is None:
        return True
    found = _body_validator(case.operation.path, case.method, case.media_type)
    if found is None:
        return True
    validator, schema = found
    try:
        read, admitted = _as_the_service_reads(case.body, schema)
        valid = admitted and validator.is_valid(read)
    except (ValueError, TypeError):
        return True  # raw bytes, not a JSON document: nothing to relabel
    if body.mode.is_positive and not valid:
        _record(case, "positive body the document does not admit")
        return False
    others_negative = any(info.mode.is_negative for loc, info in meta.components.items() if loc != ParameterLocation.BODY)
    if body.mode.is_negative and valid and not others_negative:
        _record(case, "negative body the document admits")
        return False
    return True
