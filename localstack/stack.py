"""Small AWS helpers for the local cloud scripts, run with the SAM CLI's
Python (which has boto3). Every client honours AWS_ENDPOINT_URL, which
env.sh points at the emulator."""

import json
import sys

import boto3


def ensure_bucket(name: str) -> None:
    s3 = boto3.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        s3.create_bucket(Bucket=name)


def outputs(stack: str) -> None:
    cfn = boto3.client("cloudformation")
    desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    out = {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    {"ensure-bucket": ensure_bucket, "outputs": outputs}[cmd](arg)
