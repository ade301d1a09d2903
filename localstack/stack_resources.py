"""Writes what CloudFormation creates for each AWS environment of
samconfig.toml, and what its resource handlers need, for the deploy role's
contract test (internal/contract/deployrole_test.go).

For dev, staging and prod, once as samconfig.toml configures them and once
with every optional switch on (ApiKeys, EdgeCache, Waf, AlarmEmail,
CreateSenderIdentity), it expands AWS::LanguageExtensions and runs the SAM
transform offline with the pinned SAM CLI's own libraries (as `sam validate`
and `sam deploy` do), evaluates the template's conditions, and lists every
resource that exists: its type, its properties (long values shortened) and
the resources each property refers to. Beside them: the SAM CLI's managed
stack (the artifact bucket `sam deploy --resolve-s3` creates on the first
deploy in a region, with the deploy role's own credentials), and for every
resource type the create, read, update and delete handler permissions and
the tagging facts of its registry schema, as bundled with the pinned
cfn-lint (schemas of the environment's region).

  stack_resources.py OUT            write OUT
  stack_resources.py OUT --check    exit 1 when OUT is not what it would write
"""

import contextlib
import copy
import io
import json
import logging
import os
import shlex
import sys
import tomllib
from pathlib import Path

import cfnlint
import samcli
import samtranslator
from boto3.session import Session
from samcli.lib.bootstrap.bootstrap import _get_stack_template
from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samcli.yamlhelper import yaml_parse
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("dev", "staging", "prod")
# A user may turn these on in any environment (template.yaml, Parameters).
SWITCHES_ON = {
    "ApiKeys": "true",
    "EdgeCache": "true",
    "Waf": "true",
    "AlarmEmail": "alarms@shop.test",
    "CreateSenderIdentity": "true",
}
# Stands in for the parameter samconfig.toml leaves to each team (it has no
# default, and the template refuses the example domains).
SENDER_EMAIL = "orders@shop.test"
ACCOUNT = "123456789012"
STACK_UUID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
MANAGED_STACK = "aws-sam-cli-managed-default"
# Values longer than this (as JSON), and the values of these properties,
# are replaced by a note: the test reads names, ARNs, tags and switches, not
# descriptions, policies, API definitions or dashboard bodies.
LONG = 160
TEXT = {"AccessLogSetting", "AlarmDescription", "AssumeRolePolicyDocument", "Body", "DashboardBody", "Description",
        "Environment", "FilterCriteria", "FilterPattern", "KeyPolicy", "MethodSettings", "Metrics",
        "MetricTransformations", "PolicyDocument", "Policies", "QueryString", "Rules"}


def samconfig() -> dict:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def deploy_table(config: dict, env: str) -> dict:
    """The merged parameters `sam deploy --config-env env` uses."""
    merged: dict = {}
    for e in ("default", env):
        for c in ("global", "deploy"):
            merged.update(config.get(e, {}).get(c, {}).get("parameters", {}))
    return merged


def overrides(table: dict) -> dict:
    raw = table.get("parameter_overrides", "")
    if isinstance(raw, list):
        raw = " ".join(raw)
    return dict(item.split("=", 1) for item in shlex.split(raw))


def pseudo(stack: str, region: str) -> dict:
    return {
        "AWS::StackName": stack,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{stack}/{STACK_UUID}",
    }


def transform(template: dict, params: dict, region: str) -> dict:
    """AWS::LanguageExtensions, then the SAM transform, offline."""
    expanded = expand_language_extensions(template, parameter_values=params, enabled=True).expanded_template
    for res in expanded.get("Resources", {}).values():
        if isinstance(res, dict) and res.get("Type") == "AWS::Serverless::Function":
            # What sam deploy puts there: the packaged code in the artifact
            # bucket (the test places it under the environment's s3_prefix).
            res["Properties"]["CodeUri"] = "s3://artifact-bucket/artifact-key"
    translator = Translator(managed_policy_map=None, sam_parser=parser.Parser(), plugins=[],
                            boto_session=Session(region_name=region))
    plain = {k: v for k, v in params.items() if not k.startswith("AWS::")}
    # No IAM look-up: the template names its managed policies by ARN.
    return translator.translate(sam_template=expanded, parameter_values=plain, get_managed_policy_map=lambda: {})


class Conditions:
    """Evaluates a template's Conditions with known parameter values."""

    def __init__(self, template: dict, params: dict):
        self.defs = template.get("Conditions", {})
        self.params = params
        self.cache: dict = {}

    def value(self, node):
        if isinstance(node, dict) and len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                if arg not in self.params:
                    raise ValueError(f"condition refers to {arg}, which has no value")
                return self.params[arg]
            if fn == "Condition":
                return self.holds(arg)
            if fn == "Fn::Equals":
                a, b = (self.value(x) for x in arg)
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not self.value(arg[0])
            if fn == "Fn::And":
                return all(self.value(x) for x in arg)
            if fn == "Fn::Or":
                return any(self.value(x) for x in arg)
            raise ValueError(f"cannot evaluate {fn} in a condition")
        if isinstance(node, list):
            raise ValueError(f"cannot evaluate the list {node} in a condition")
        return node

    def holds(self, name: str) -> bool:
        if name not in self.cache:
            self.cache[name] = bool(self.value(self.defs[name]))
        return self.cache[name]


NO_VALUE = object()


def resolve_ifs(node, conds: Conditions):
    """Replaces Fn::If by its chosen branch and drops AWS::NoValue."""
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::If" in node:
            name, yes, no = node["Fn::If"]
            return resolve_ifs(yes if conds.holds(name) else no, conds)
        if node == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        out = {}
        for k, v in node.items():
            r = resolve_ifs(v, conds)
            if r is not NO_VALUE:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (resolve_ifs(v, conds) for v in node) if r is not NO_VALUE]
    return node


def refs(node, ids: set) -> set:
    """Logical ids a value refers to (Ref, Fn::GetAtt, ${Id} in Fn::Sub)."""
    found: set = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str) and v in ids:
                found.add(v)
            elif k == "Fn::GetAtt":
                target = v[0] if isinstance(v, list) else str(v).split(".")[0]
                if target in ids:
                    found.add(target)
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                for part in str(text).split("${")[1:]:
                    name = part.split("}")[0].split(".")[0]
                    if name in ids:
                        found.add(name)
            found |= refs(v, ids)
    elif isinstance(node, list):
        for v in node:
            found |= refs(v, ids)
    elif isinstance(node, str):
        # SAM CLI's expansion of AWS::LanguageExtensions resolves the pseudo
        # parameters of an Fn::Sub and leaves a plain string with the
        # resource references in it ("/restapis/${Api}/stages/${Api.Stage}").
        for part in node.split("${")[1:]:
            name = part.split("}")[0].split(".")[0]
            if name in ids:
                found.add(name)
    return found


def shorten(name: str, value):
    if name in TEXT:
        return "(omitted)"
    if isinstance(value, dict) and len(json.dumps(value)) > LONG:
        return {k: shorten(k, v) for k, v in value.items()}
    if len(json.dumps(value)) > LONG:
        return "(omitted)"
    return value


def resources(template: dict, conds: Conditions) -> list:
    res = template["Resources"]
    ids = set(res)
    out = []
    for lid in sorted(res):
        r = res[lid]
        cond = r.get("Condition")
        if cond and not conds.holds(cond):
            continue
        props = resolve_ifs(r.get("Properties", {}), conds)
        entry = {
            "id": lid,
            "type": r["Type"],
            "properties": {k: shorten(k, v) for k, v in sorted(props.items())},
            "refs": {k: sorted(refs(v, ids)) for k, v in sorted(props.items()) if refs(v, ids)},
        }
        if r.get("UpdatePolicy"):
            entry["updatePolicy"] = sorted(r["UpdatePolicy"])
        out.append(entry)
    return out


def variant(template: dict, params: dict, region: str) -> list:
    out = transform(copy.deepcopy(template), params, region)
    defaults = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()
                if "Default" in v}
    conds = Conditions(out, {**defaults, **params})
    return resources(out, conds)


def schemas(region: str) -> tuple[Path, dict]:
    base = Path(cfnlint.__file__).parent / "data" / "schemas"
    return base / "resources", json.loads((base / "providers" / f"{region}.json").read_text())


def handlers(types: set, region: str) -> dict:
    dir_, provider = schemas(region)
    out = {}
    for t in sorted(types):
        if t not in provider:
            out[t] = None  # no registry schema (Custom::*)
            continue
        s = json.loads((dir_ / f"{provider[t]}.json").read_text())
        h = s.get("handlers", {})
        tagging = s.get("tagging", {})
        out[t] = {
            "handlers": {k: sorted(set(h[k].get("permissions", []))) for k in ("create", "read", "update", "delete")
                         if k in h},
            "taggable": tagging.get("taggable", "Tags" in s.get("properties", {})),
            "tagOnCreate": tagging.get("tagOnCreate", tagging.get("taggable", False)),
            "systemTags": tagging.get("cloudFormationSystemTags", False),
            "tagPermissions": sorted(tagging.get("permissions", [])),
        }
    return out


def build() -> dict:
    logging.disable(logging.CRITICAL)
    config = samconfig()
    template = yaml_parse((ROOT / "template.yaml").read_text())
    stacks = []
    types: set = set()
    regions = set()
    for env in ENVIRONMENTS:
        table = deploy_table(config, env)
        stack, region = table["stack_name"], table["region"]
        regions.add(region)
        configured = {"SenderEmail": SENDER_EMAIL, **overrides(table)}
        for name, params in (("configured", configured), ("switches on", {**configured, **SWITCHES_ON})):
            with contextlib.redirect_stdout(io.StringIO()):
                res = variant(template, {**params, **pseudo(stack, region)}, region)
            types |= {r["type"] for r in res}
            stacks.append({"environment": env, "variant": name, "stack": stack, "region": region,
                           "s3Prefix": table.get("s3_prefix", ""), "parameters": dict(sorted(params.items())),
                           "role": "ExecutionRole", "resources": res})
    if len(regions) != 1:
        sys.exit(f"the environments deploy to several regions {sorted(regions)}: one handlers table per region is needed")
    region = regions.pop()
    managed = json.loads(_get_stack_template())
    managed["Metadata"] = {}
    res = variant(managed, pseudo(MANAGED_STACK, region), region)
    types |= {r["type"] for r in res}
    stacks.append({"environment": "any", "variant": "sam deploy --resolve-s3, first deploy in the region",
                   "stack": MANAGED_STACK, "region": region, "s3Prefix": "", "parameters": {},
                   "role": "DeployRole", "resources": res})
    return {
        "generatedBy": "localstack/stack_resources.py",
        "samCli": samcli.__version__,
        "samTranslator": samtranslator.__version__,
        "cfnLint": cfnlint.version.__version__,
        "account": ACCOUNT,
        "stacks": stacks,
        "types": handlers(types, region),
    }


def render(doc: dict) -> str:
    """JSON with one resource a line, so that a change reads as a small diff."""
    lines = ["{"]
    keys = sorted(doc)
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        v = doc[k]
        if k == "stacks":
            lines.append(f' "stacks": [')
            for j, st in enumerate(v):
                head = {x: y for x, y in st.items() if x != "resources"}
                lines.append("  " + json.dumps(head, sort_keys=True)[:-1] + ', "resources": [')
                for m, r in enumerate(st["resources"]):
                    lines.append("   " + json.dumps(r, sort_keys=True) + ("," if m < len(st["resources"]) - 1 else ""))
                lines.append("  ]}" + ("," if j < len(v) - 1 else ""))
            lines.append(" ]" + comma)
        elif k == "types":
            lines.append(' "types": {')
            tk = sorted(v)
            for j, t in enumerate(tk):
                lines.append(f"  {json.dumps(t)}: {json.dumps(v[t], sort_keys=True)}" + ("," if j < len(tk) - 1 else ""))
            lines.append(" }" + comma)
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2 or (len(argv) == 2 and argv[1] != "--check"):
        sys.exit(__doc__)
    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    text = render(build())
    out = Path(argv[0])
    if len(argv) == 2:
        if not out.exists() or out.read_text() != text:
            print(f"{out} is not what template.yaml, samconfig.toml and the pinned SAM CLI give: "
                  f"run `.local/venv/sam/bin/python localstack/stack_resources.py {out}` and commit it",
                  file=sys.stderr)
            return 1
        print(f"{out}: up to date")
        return 0
    out.write_text(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
