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


def sam_local_env(outputs_file: str) -> None:
    """Environment for `sam local start-api`: the functions run in Docker
    containers and reach the local cloud on the host."""
    o = json.load(open(outputs_file))
    endpoint = "http://host.docker.internal:4566"
    common = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    issuer = f"urn:serverless-shop:{o['StackName']}"
    keys = f"{o['SigningKeyAId']},{o['SigningKeyBId']}"
    env = {
        "AuthorizerFunction": {**common, "VERIFY_KEY_IDS": keys, "TOKEN_ISSUER": issuer, "TOKEN_AUDIENCE": issuer + ":api"},
        "UsersFunction": {**common, "USERS_TABLE": o["UsersTableName"], "SIGNING_KEY_ID": o["ActiveSigningKeyId"],
                          "VERIFY_KEY_IDS": keys, "TOKEN_ISSUER": issuer, "TOKEN_AUDIENCE": issuer + ":api"},
        "OrdersFunction": {**common, "ORDERS_TABLE": o["OrdersTableName"], "CURSOR_SECRET_ARN": o["CursorSecretArn"]},
    }
    json.dump(env, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    {"ensure-bucket": ensure_bucket, "outputs": outputs, "sam-local-env": sam_local_env}[cmd](arg)
