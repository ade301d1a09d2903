"""Checks that SAM CLI, reading template.yaml the way `sam local start-api`
does, mounts every operation of api/openapi.yaml with the right authorizer:
protected operations behind the Jwt REQUEST authorizer (AuthorizerFunction,
identity source the Authorization header), public ones behind none; every
other method of each documented path on the function of its operations,
behind the same authorizer (the ANY methods whose requests the services
answer with 405); and nothing else. Needs no Docker: it runs SAM CLI's own
route discovery from the pinned SAM CLI package.

  sam_routes.py TEMPLATE OPENAPI     print the routes found; exit 1 on a mismatch
"""

import contextlib
import io
import sys

import yaml
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def discovered(template: str) -> dict:
    """{(METHOD, path): (function, authorizer description or None)}"""
    # SAM CLI prints a notice about authorizer fidelity on discovery.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        stacks, _ = SamLocalStackProvider.get_stacks(template, language_extensions_enabled=True)
        api = ApiProvider(stacks).api
    routes = {}
    for r in api.routes:
        auth = None
        if r.authorizer_name:
            a = r.authorizer_object
            sources = [getattr(s, "identity_source", "?") for s in (getattr(a, "identity_sources", None) or [])]
            auth = (r.authorizer_name, type(a).__name__ if a else None, getattr(a, "type", None),
                    getattr(a, "lambda_name", None), tuple(sources))
        # SAM CLI merges a function's routes of one path, so a method the
        # template routes twice (its own and the ANY) may be listed twice.
        for m in set(r.methods):
            key = (m.upper(), r.path)
            if key in routes and routes[key] != (r.function_name, auth):
                sys.exit(f"SAM mounts {m} {r.path} twice: {routes[key]} and {(r.function_name, auth)}")
            routes[key] = (r.function_name, auth)
    return routes


def documented(openapi: str) -> dict:
    """{(METHOD, path): protected}"""
    doc = yaml.safe_load(open(openapi))
    default = doc.get("security", [])
    out = {}
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                out[(m.upper(), path)] = len(item[m].get("security", default)) > 0
    return out


WANT_AUTHORIZER = ("Jwt", "LambdaAuthorizer", "request", "AuthorizerFunction", ("Authorization",))


def main(template: str, openapi: str) -> int:
    found, want = discovered(template), documented(openapi)
    problems = []
    paths = {path: {m for (m, p) in want if p == path} for (_, path) in want}
    for key in sorted(set(found) | set(want)):
        route = f"{key[0]} {key[1]}"
        if key not in found:
            problems.append(f"{route}: in openapi.yaml, not mounted by SAM")
            continue
        function, auth = found[key]
        if key not in want:
            # A method the path does not document: the ANY method, which
            # must reach the service of the path's operations (it answers
            # 405) behind the same authorizer.
            ops = paths.get(key[1])
            if not ops:
                problems.append(f"{route}: mounted by SAM, not in openapi.yaml")
                continue
            op = found.get((sorted(ops)[0], key[1]))
            if op is not None and (function, auth) != op:
                problems.append(f"{route}: mounted on {function} with authorizer {auth}, "
                                f"the path's operations on {op[0]} with {op[1]}")
            continue
        if want[key] and auth != WANT_AUTHORIZER:
            problems.append(f"{route}: protected, but SAM mounts it with authorizer {auth}")
        if not want[key] and auth is not None:
            problems.append(f"{route}: public, but SAM mounts it with authorizer {auth}")
        print(f"  {route:36} -> {function:16} {auth[0] + ' (REQUEST, Authorization)' if auth else 'public'}")
    for path in sorted(paths):
        missing = [m.upper() for m in METHODS if (m.upper(), path) not in found]
        if missing:
            problems.append(f"{path}: SAM mounts no {', '.join(missing)} (no ANY method for the 405 answers)")
    ops = [k for k in found if k in want]
    print(f"SAM CLI route discovery: {len(ops)} operations, {sum(1 for k in ops if found[k][1])} behind the authorizer; "
          f"every other method of their {len(paths)} paths on the same function and authorizer (405)")
    for p in problems:
        print("ERROR " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
