"""Prints template.yaml as CloudFormation receives it, for the given
parameter values: AWS::LanguageExtensions expanded (Fn::ForEach,
Fn::FindInMap), then the SAM transform applied, by the pinned SAM CLI's own
code (what `sam validate` runs). Needs no AWS account and no network. Run
with the SAM CLI's Python; the compatibility check (compat.sh) reads its
output.

  transform.py TEMPLATE [Name=Value ...]    print the processed template as JSON
"""

import contextlib
import io
import json
import sys

from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policy; none is looked up."""

    def load(self):
        return {}


def main(template: str, overrides: list) -> None:
    params = dict(o.split("=", 1) for o in overrides)
    with open(template) as f:
        doc = yaml_parse(f.read())
    validator = SamTemplateValidator(doc, NoManagedPolicies(), region="us-east-1",
                                     parameter_overrides=params, language_extensions_enabled=True)
    with contextlib.redirect_stdout(io.StringIO()):
        processed = yaml_parse(validator.get_translated_template_if_valid())
    json.dump(processed, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
