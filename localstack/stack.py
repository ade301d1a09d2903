"""Small AWS helpers for the local cloud scripts, run with the SAM CLI's
Python (which has boto3). Every client honours AWS_ENDPOINT_URL, which
env.sh points at the emulator.

  stack.py ensure-bucket NAME         create the deploy bucket if missing
  stack.py outputs STACK              print the stack's outputs as JSON
  stack.py gateway-responses STACK    apply the template's gateway responses
  stack.py any-methods STACK          add the definition's ANY methods
  stack.py sam-local-env STACK URL    print an --env-vars file for sam local,
                                      with URL as the functions' endpoint
"""

import json
import sys

import boto3


def ensure_bucket(name: str) -> None:
    s3 = boto3.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        s3.create_bucket(Bucket=name)


def stack_outputs(stack: str) -> dict:
    cfn = boto3.client("cloudformation")
    desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}


def outputs(stack: str) -> None:
    json.dump(stack_outputs(stack), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def api_definition(stack: str) -> dict:
    """The OpenAPI definition of the stack's REST API, as SAM produced it
    (intrinsics such as the integrations' Fn::Sub left unresolved)."""
    cfn = boto3.client("cloudformation")
    body = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    if isinstance(body, str):
        body = json.loads(body)
    definitions = [r["Properties"]["Body"] for r in body["Resources"].values()
                   if r["Type"] == "AWS::ApiGateway::RestApi"]
    if len(definitions) != 1:
        sys.exit(f"expected one REST API in stack {stack}, found {len(definitions)}")
    return definitions[0]


def gateway_responses(stack: str) -> None:
    """Put the gateway responses of the deployed REST API's definition (SAM's
    GatewayResponses) on the API and redeploy its stage, where the emulator
    did not import them with the definition. MiniStack 1.5.33 skips
    x-amazon-apigateway-gateway-responses on import; AWS imports them."""
    want = api_definition(stack).get("x-amazon-apigateway-gateway-responses", {})
    out = stack_outputs(stack)
    api, stage = out["ApiId"], out["ApiStage"]
    apigw = boto3.client("apigateway")
    have = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api, limit=500)["items"]}
    put = 0
    for kind, spec in sorted(want.items()):
        fields = {
            "statusCode": str(spec.get("statusCode", "")),
            "responseParameters": spec.get("responseParameters", {}),
            "responseTemplates": spec.get("responseTemplates", {}),
        }
        cur = have.get(kind, {})
        if all(cur.get(k, {} if k != "statusCode" else "") == v for k, v in fields.items()):
            continue
        apigw.put_gateway_response(restApiId=api, responseType=kind, **{k: v for k, v in fields.items() if v})
        put += 1
    if put:
        # Gateway responses take effect with the next deployment of a stage.
        apigw.create_deployment(restApiId=api, stageName=stage, description="gateway responses of the template")
        print(f"gateway responses: put {put} of {len(want)} and redeployed stage {stage}")
    else:
        print(f"gateway responses: all {len(want)} in place")


ANY = "x-amazon-apigateway-any-method"


def _target(operation: dict) -> tuple:
    """What an operation of the definition invokes, and behind what security."""
    i = operation.get("x-amazon-apigateway-integration", {})
    return i.get("type"), i.get("httpMethod"), json.dumps(i.get("uri"), sort_keys=True), operation.get("security")


def any_methods(stack: str) -> None:
    """Add the ANY methods of the deployed REST API's definition (the
    template's `Method: ANY` events, whose requests the services answer
    with 405) where the emulator did not import them, and redeploy the
    stage. MiniStack 1.5.33 imports only the definition's GET, POST, PUT,
    DELETE, PATCH, HEAD and OPTIONS operations and skips
    x-amazon-apigateway-any-method; AWS imports it. Each ANY method is put
    as a copy of a method of the same resource whose definition has the
    same integration and security (the template's ANY events go to the
    function of the path's operations, with their authorizer), so it takes
    that method's resolved integration URI, authorizer and API key
    setting."""
    paths = api_definition(stack)["paths"]
    out = stack_outputs(stack)
    api, stage = out["ApiId"], out["ApiStage"]
    apigw = boto3.client("apigateway")
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api, limit=500)["items"]}
    want = [path for path, item in paths.items() if ANY in item]
    put = 0
    for path in sorted(want):
        item, resource = paths[path], resources.get(path)
        if resource is None:
            sys.exit(f"any-methods: the API has no resource {path}")
        if "ANY" in resource.get("resourceMethods", {}):
            continue
        twins = [m for m, op in item.items() if m != ANY and isinstance(op, dict) and _target(op) == _target(item[ANY])]
        if not twins:
            sys.exit(f"any-methods: ANY {path} has no method of the same integration and security to copy")
        twin = apigw.get_method(restApiId=api, resourceId=resource["id"], httpMethod=twins[0].upper())
        method = {"authorizationType": twin["authorizationType"], "apiKeyRequired": twin.get("apiKeyRequired", False)}
        if twin.get("authorizerId"):
            method["authorizerId"] = twin["authorizerId"]
        apigw.put_method(restApiId=api, resourceId=resource["id"], httpMethod="ANY", **method)
        integration = twin["methodIntegration"]
        apigw.put_integration(restApiId=api, resourceId=resource["id"], httpMethod="ANY",
                              type=integration["type"], integrationHttpMethod=integration["httpMethod"],
                              uri=integration["uri"])
        put += 1
    if put:
        apigw.create_deployment(restApiId=api, stageName=stage, description="ANY methods of the template")
        print(f"ANY methods: put {put} of {len(want)} and redeployed stage {stage}")
    else:
        print(f"ANY methods: all {len(want)} in place")


def sam_local_env(stack: str, endpoint: str) -> None:
    """An --env-vars file for `sam local start-api`: every function's
    environment as deployed on the local cloud, pointed at the local cloud
    as a container reaches it (endpoint: host.docker.internal and the local
    cloud's port, localstack/sam-local.sh)."""
    cfn = boto3.client("cloudformation")
    lam = boto3.client("lambda")
    env = {}
    for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]:
        if r["ResourceType"] != "AWS::Lambda::Function":
            continue
        cfg = lam.get_function_configuration(FunctionName=r["PhysicalResourceId"])
        variables = dict(cfg.get("Environment", {}).get("Variables", {}))
        variables.update({
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
        })
        env[r["LogicalResourceId"]] = variables
    json.dump(env, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "ensure-bucket": ensure_bucket,
        "outputs": outputs,
        "gateway-responses": gateway_responses,
        "any-methods": any_methods,
        "sam-local-env": sam_local_env,
    }[cmd](*args)
