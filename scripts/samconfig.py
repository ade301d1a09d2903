"""Reads samconfig.toml for the scripts, the Makefile and the workflow, so
that the file stays the one source of each environment's settings.

  samconfig.py ENV region          the environment's region
  samconfig.py ENV stack_name      its stack name
  samconfig.py ENV param NAME      a parameter of its parameter_overrides ("" if unset)
  samconfig.py ENV check           fail unless it can deploy to AWS (SenderEmail set)

Needs Python 3.11 or later (tomllib).
"""

import shlex
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table(config: dict, env: str, command: str) -> dict:
    """The merged parameters SAM CLI uses for command in env."""
    merged: dict = {}
    for e in ("default", env):
        for c in ("global", command):
            merged.update(config.get(e, {}).get(c, {}).get("parameters", {}))
    return merged


def overrides(config: dict, env: str) -> dict:
    raw = table(config, env, "deploy").get("parameter_overrides", "")
    if isinstance(raw, list):
        raw = " ".join(raw)
    return dict(item.split("=", 1) for item in shlex.split(raw))


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    env, what = argv[0], argv[1]
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    if env not in config:
        sys.exit(f"samconfig.toml has no environment {env!r}")
    if what in ("region", "stack_name"):
        value = table(config, env, "deploy").get(what, "")
        if not value:
            sys.exit(f"samconfig.toml sets no {what} for {env}")
        print(value)
    elif what == "param" and len(argv) == 3:
        print(overrides(config, env).get(argv[2], ""))
    elif what == "check":
        if not overrides(config, env).get("SenderEmail"):
            sys.exit(
                f"samconfig.toml: set SenderEmail=<an address SES can verify> in "
                f"[{env}.deploy.parameters] parameter_overrides before deploying to AWS "
                f"(docs/operations.md, Before the first deploy)")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
