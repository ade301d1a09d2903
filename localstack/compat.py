"""The offline LocalStack compatibility check (docs/local-cloud.md).

LocalStack cannot run on the project's machines (no Docker engine; its
DynamoDB is DynamoDB Local, a proprietary jar), so this checks, without
running it, that its free edition serves what the deployed stack needs. It
reads the source of the pinned localstack-core (the free edition's Python
package) and of the moto backends it falls back to, installed without their
dependencies by install.sh into .local/localstack-compat: nothing of them is
imported or run.

  * the AWS API operations the deployed code calls (ops.json, from
    `go run ./internal/sdkcalls`): the service must be one the free edition
    registers (its `localstack.aws.provider` entry points), and the
    operation must be a method of that service's provider class or, where
    the provider falls back to moto (MotoFallbackDispatcher), a method of
    the moto response class that moto dispatches the operation to; a
    provider that forwards to a backing server (HttpFallbackDispatcher:
    DynamoDB Local) serves the rest of its API there.
  * the resource types of the processed template (template.json, from
    transform.py, for the parameters the LocalStack deploy uses): every
    resource whose condition holds there must have a resource provider in
    the free edition (its `localstack.cloudformation.resource_providers`
    entry points; Custom::* is AWS::CloudFormation::CustomResource, as
    LocalStack maps it). Where none exists, LocalStack deploys a placeholder
    whose Ref and GetAtt are the string "unknown".

Every gap must be listed in the deviations file with how it is handled;
the check fails on a gap that is not listed and on a listed one that is no
longer a gap.

  compat.py OPS_JSON TEMPLATE_JSON DEVIATIONS_YAML Name=Value...
"""

import ast
import importlib.metadata as metadata
import json
import sys
from functools import lru_cache

import yaml

from conditions import ConditionError, holds

LOCALSTACK = metadata.distribution("localstack-core")
MOTO = metadata.distribution("moto-ext")

# Services whose Go SDK ServiceID, lowercased without spaces, is not the
# service's name in botocore (and so in LocalStack).
SERVICE_ALIASES = {"cloudwatchlogs": "logs", "eventbridge": "events", "sfn": "stepfunctions"}


def source(dist, path: str) -> ast.Module:
    return _parse(str(dist.locate_file(path)))


@lru_cache(maxsize=None)
def _parse(file: str) -> ast.Module:
    with open(file) as f:
        return ast.parse(f.read(), file)


def module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def package_path(module: str) -> str:
    return module.replace(".", "/") + "/__init__.py"


def exists(dist, path: str) -> bool:
    return dist.locate_file(path).exists()


def module_file(dist, module: str) -> str:
    for p in (module_path(module), package_path(module)):
        if exists(dist, p):
            return p
    raise SystemExit(f"compat: {dist.metadata['Name']} has no module {module}")


def entry_points(group: str) -> dict:
    return {ep.name: ep.value for ep in LOCALSTACK.entry_points if ep.group == group}


# ------------------------------------------------------------ services


def registered_services() -> dict:
    """{api name: "module:function"} of the free edition's default providers."""
    out = {}
    for name, value in entry_points("localstack.aws.provider").items():
        api, _, provider = name.partition(":")
        if provider == "default":
            out[api] = value
    return out


def imports_of(tree) -> dict:
    """{local name: (module, name)} of the from-imports in tree."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                out[a.asname or a.name] = (node.module, a.name)
    return out


def relative_imports(tree, module: str) -> dict:
    """Like imports_of, resolving relative imports against module."""
    out = imports_of(tree)
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = f"{base}.{node.module}" if node.module else base
            for a in node.names:
                out[a.asname or a.name] = (mod, a.name)
    return out


class Provider:
    """A service's provider as its factory in localstack.services.providers
    builds it: the class and how requests it has no method for go on."""

    def __init__(self, api: str, entry: str):
        module, _, function = entry.partition(":")
        tree = source(LOCALSTACK, module_file(LOCALSTACK, module))
        fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None)
        if fn is None:
            raise SystemExit(f"compat: no provider factory {entry}")
        names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        self.fallback = ("moto" if "MotoFallbackDispatcher" in names
                         else "server" if "HttpFallbackDispatcher" in names else None)
        imported = imports_of(fn)
        cls = None
        for node in ast.walk(fn):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name) and node.value.func.id in imported):
                cls = node.value.func.id
        if cls is None:
            raise SystemExit(f"compat: cannot tell the provider class of {entry}")
        self.api = api
        self.module, self.cls = imported[cls]
        self.methods, self.stub = set(), None
        self._collect(self.module, self.cls)
        if self.stub is None:
            raise SystemExit(f"compat: {self.module}.{self.cls} does not extend an API class of localstack.aws.api")

    def _collect(self, module: str, name: str) -> None:
        path = module_file(LOCALSTACK, module)
        tree = source(LOCALSTACK, path)
        node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if node is None:
            return
        if module.startswith("localstack.aws.api."):
            self.stub = (path, node)
            return
        self.methods |= {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        imported = relative_imports(tree, module)
        for base in node.bases:
            if isinstance(base, ast.Name):
                mod, cls = imported.get(base.id, (module, base.id))
                if mod.startswith("localstack."):
                    self._collect(mod, cls)

    def handlers(self) -> dict:
        """{operation: method name} of the service's API class (@handler)."""
        out = {}
        for n in self.stub[1].body:
            if not isinstance(n, ast.FunctionDef):
                continue
            for d in n.decorator_list:
                if (isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "handler"
                        and d.args and isinstance(d.args[0], ast.Constant)):
                    out[d.args[0].value] = n.name
        return out

    def version(self) -> str:
        for n in self.stub[1].body:
            if (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == "version"
                    and isinstance(n.value, ast.Constant)):
                return n.value.value
        return ""


# ---------------------------------------------------------------- moto


def _moto_camelcase_to_underscores():
    """moto's own camelcase_to_underscores (moto.core.utils), by which
    BaseResponse.call_action turns an operation into a method name."""
    tree = source(MOTO, "moto/core/utils.py")
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "camelcase_to_underscores")
    fn.returns = None
    fn.args.args[0].annotation = None
    scope: dict = {}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), "moto/core/utils.py", "exec"), scope)
    return scope["camelcase_to_underscores"]


camelcase_to_underscores = _moto_camelcase_to_underscores()


@lru_cache(maxsize=None)
def moto_methods(service: str) -> frozenset:
    """The methods of the response classes moto routes service's requests
    to (moto.backends.get_backend's module, its urls.py's url_paths)."""
    alt = {}
    for node in source(MOTO, "moto/backends.py").body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ALT_SERVICE_NAMES" for t in node.targets):
            alt = ast.literal_eval(node.value)
    safe = service.replace("-", "")
    module = "moto." + alt.get(safe, safe)
    urls_path = module_path(module + ".urls")
    if not exists(MOTO, urls_path):
        return frozenset()
    urls = source(MOTO, urls_path)
    imported = relative_imports(urls, module + ".urls")
    classes = set()
    for node in urls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "url_paths" for t in node.targets):
            for v in ast.walk(node.value):
                if isinstance(v, ast.Attribute):
                    base = v.value.func if isinstance(v.value, ast.Call) else v.value
                    if isinstance(base, ast.Name) and base.id in imported:
                        classes.add(imported[base.id])
    methods = set()
    for mod, cls in classes:
        methods |= _class_methods(mod, cls, module)
    return frozenset(methods)


def _class_methods(module: str, name: str, within: str) -> set:
    """Methods of a moto class and of its bases in the same service package
    (moto.core's BaseResponse holds the dispatching, no operation)."""
    path = module_file(MOTO, module)
    tree = source(MOTO, path)
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if node is None:
        return set()
    out = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    imported = relative_imports(tree, module)
    for base in node.bases:
        if isinstance(base, ast.Name):
            mod, cls = imported.get(base.id, (module, base.id))
            if mod.startswith(within):
                out |= _class_methods(mod, cls, within)
    return out


# ----------------------------------------------------------- operations


def check_operations(ops: list) -> tuple:
    """(served, gaps): one line per operation, and the gaps as
    {key: reason} with keys "operation <service> <Operation>"."""
    services = registered_services()
    providers: dict = {}
    served, gaps = [], {}
    for op in ops:
        name = op["serviceId"].lower().replace(" ", "")
        api = SERVICE_ALIASES.get(name, name)
        key = f"operation {api} {op['operation']}"
        where = op["sites"][0] + (f" (+{len(op['sites']) - 1})" if len(op["sites"]) > 1 else "")
        if api not in services:
            gaps[key] = (f"the free edition registers no {op['serviceId']} service ({op['package']}, API "
                         f"{op['apiVersion']}); called at {where}")
            continue
        if api not in providers:
            providers[api] = Provider(api, services[api])
        p = providers[api]
        if p.version() != op["apiVersion"]:
            gaps[key] = f"LocalStack serves {api} API {p.version()}, the code calls {op['apiVersion']}; at {where}"
            continue
        method = p.handlers().get(op["operation"])
        if method is None:
            gaps[key] = f"not an operation of LocalStack's {api} API; called at {where}"
        elif method in p.methods:
            served.append(f"{api} {op['operation']}: {p.cls}.{method} (LocalStack's provider)")
        elif p.fallback == "moto" and camelcase_to_underscores(op["operation"]) in moto_methods(api):
            served.append(f"{api} {op['operation']}: moto's {api} backend (the provider falls back to moto)")
        elif p.fallback == "server":
            served.append(f"{api} {op['operation']}: forwarded to the provider's backing server "
                          f"(DynamoDB Local for dynamodb; not inspectable offline)")
        else:
            how = "nor moto's backend" if p.fallback == "moto" else "and no fallback"
            gaps[key] = f"{p.cls} has no {method} {how}; called at {where}"
    return served, gaps


# ------------------------------------------------------------ template


def _provider_methods(entry: str) -> dict:
    """{method: implemented} of the resource provider class a
    localstack.cloudformation.resource_providers plugin loads: a method
    whose last statement raises NotImplementedError is a stub (4.14 ships
    generated providers that were never filled in)."""
    module, _, plugin = entry.partition(":")
    tree = source(LOCALSTACK, module_file(LOCALSTACK, module))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == plugin), None)
    load = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "load"), None) if cls else None
    if load is None:
        return {}
    for mod, name in imports_of(load).values():
        ptree = source(LOCALSTACK, module_file(LOCALSTACK, mod))
        pcls = next((n for n in ptree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if pcls is None:
            continue
        out = {}
        for fn in pcls.body:
            if isinstance(fn, ast.FunctionDef) and fn.name in ("create", "update", "delete"):
                last = fn.body[-1]
                out[fn.name] = not (isinstance(last, ast.Raise) and last.exc is not None
                                    and "NotImplementedError" in ast.unparse(last.exc))
        return out
    return {}


def check_resources(template: dict, overrides: dict) -> tuple:
    """(served, skipped, gaps) for the resource types of the processed
    template, as deployed with overrides (the other parameters at their
    defaults); gap keys are "resource <Type>"."""
    params = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    params.update(overrides)
    params.update({"AWS::Region": "us-east-1", "AWS::Partition": "aws", "AWS::AccountId": "000000000000"})
    conditions = template.get("Conditions", {})
    entries = entry_points("localstack.cloudformation.resource_providers")
    providers = {t for t, e in entries.items() if _provider_methods(e).get("create", False)}
    stubs = set(entries) - providers  # registered, but create raises NotImplementedError
    by_type: dict = {}
    skipped = {}
    for logical, res in template["Resources"].items():
        cond = res.get("Condition")
        if cond and not holds(cond, conditions, params):
            skipped.setdefault(res["Type"], set()).add(cond)
            continue
        by_type.setdefault(res["Type"], []).append(logical)
    served, gaps, no_update = [], {}, []
    for typ, logicals in sorted(by_type.items()):
        # LocalStack looks every Custom:: type up as AWS::CloudFormation::CustomResource.
        looked_up = "AWS::CloudFormation::CustomResource" if typ.startswith("Custom::") else typ
        names = ", ".join(sorted(logicals)[:3]) + (", ..." if len(logicals) > 3 else "")
        if looked_up.lower() in providers:
            served.append(f"{typ}: {len(logicals)} ({names})")
            if not _provider_methods(entries[looked_up.lower()]).get("update"):
                no_update.append(typ)
        else:
            key = f"resource {looked_up}"
            prev = gaps.get(key, "")
            why = "its resource provider's create is not implemented" if looked_up.lower() in stubs else "no resource provider"
            gaps[key] = ((prev + "; ") if prev else "") + f"{why}: {typ} {names}"
    skipped_lines = []
    for typ, conds in sorted(skipped.items()):
        looked_up = "AWS::CloudFormation::CustomResource" if typ.startswith("Custom::") else typ
        if typ in by_type or looked_up.lower() in providers:
            continue
        why = "its resource provider's create is not implemented" if looked_up.lower() in stubs else "no resource provider"
        skipped_lines.append(f"{typ}: {why}; not deployed on LocalStack (condition {', '.join(sorted(conds))})")
    for key in gaps:
        gaps[key] += (" (without a provider LocalStack deploys a placeholder whose Ref and GetAtt are \"unknown\";"
                      " a provider that cannot create fails the deploy)")
    if no_update:
        skipped_lines.append("(update) " + ", ".join(no_update) + ": their providers do not implement update; "
                             "LocalStack keeps the resource as it was when a redeploy changes it (make down first)")
    return served, skipped_lines, gaps


# ---------------------------------------------------------------- main


def main(ops_file: str, template_file: str, deviations_file: str, overrides: list) -> int:
    with open(ops_file) as f:
        ops = json.load(f)
    with open(template_file) as f:
        template = json.load(f)
    with open(deviations_file) as f:
        deviations = yaml.safe_load(f) or {}
    params = dict(o.split("=", 1) for o in overrides)
    print(f"LocalStack compatibility: localstack-core {LOCALSTACK.version} (its free edition), "
          f"moto-ext {MOTO.version}; {len(ops)} operations, template for {' '.join(overrides)}")
    op_served, op_gaps = check_operations(ops)
    try:
        res_served, res_skipped, res_gaps = check_resources(template, params)
    except ConditionError as e:
        raise SystemExit(f"compat: {e}") from e
    for line in op_served:
        print(f"  ok        {line}")
    for line in res_served:
        print(f"  ok        {line}")
    for line in res_skipped:
        if line.startswith("(update) "):
            print(f"  note      {line.removeprefix('(update) ')}")
        else:
            print(f"  condition {line}")
    gaps = {**op_gaps, **res_gaps}
    failed = 0
    for key, reason in sorted(gaps.items()):
        dev = deviations.get(key)
        if dev:
            print(f"  handled   {key}: {reason}\n            by {dev['handled_by']} (compat-deviations.yaml)")
        else:
            print(f"  GAP       {key}: {reason}")
            failed += 1
    for key in sorted(set(deviations) - set(gaps)):
        print(f"  STALE     {key}: listed in {deviations_file}, but no longer a gap: remove it")
        failed += 1
    if failed:
        print(f"LocalStack compatibility: {failed} problem(s). A gap is handled by a template condition that keeps "
              f"the resource off LocalStack, or listed in {deviations_file} with how it is handled (docs/local-cloud.md).")
        return 1
    print(f"LocalStack compatibility: ok ({len(op_served)} operations and {len(res_served)} resource types served; "
          f"{len(gaps)} deviations handled)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
