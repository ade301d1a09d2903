"""Small AWS helpers for the local cloud scripts, run with the SAM CLI's
Python (which has boto3). Every client honours AWS_ENDPOINT_URL, which
env.sh points at the emulator.

  stack.py ensure-bucket NAME         create the deploy bucket if missing
  stack.py outputs STACK              print the stack's outputs as JSON
  stack.py gateway-responses STACK    apply the template's gateway responses
  stack.py any-methods STACK          add the definition's ANY methods
  stack.py sam-local-env STACK URL    print an --env-vars file for sam local,
                                      with URL as the functions' endpoint
  stack.py verify-sender EMAIL        verify an SES identity (SES v1)
  stack.py custom-resources STACK ENDPOINT
                                      run the template's custom resources
                                      (LocalStack's free edition has none)
"""

import json
import sys
import uuid

import boto3
from botocore.config import Config

from conditions import holds


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


def verify_sender(email: str) -> None:
    """Verify the sender's SES identity, as an operator does before
    deploying with CreateSenderIdentity=false. LocalStack's free edition
    registers a resource provider for AWS::SES::EmailIdentity whose create
    is not implemented (it fails the deploy), and its SES (moto's) refuses
    mail from an address that is not verified; VerifyEmailIdentity verifies
    it at once there."""
    boto3.client("ses").verify_email_identity(EmailAddress=email)
    print(f"SES identity {email} verified")


class Deployed:
    """A deployed stack as CloudFormation processed it: its template, its
    parameter values and its resources' physical ids."""

    def __init__(self, stack: str):
        cfn = boto3.client("cloudformation")
        body = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
        self.template = json.loads(body) if isinstance(body, str) else body
        desc = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        self.stack_id = desc["StackId"]
        self.params = {k: v.get("Default") for k, v in self.template.get("Parameters", {}).items()}
        self.params.update({p["ParameterKey"]: p.get("ResolvedValue", p["ParameterValue"]) for p in desc.get("Parameters", [])})
        self.physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                         for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        self.lam = boto3.client("lambda")

    def resources(self, kind):
        """(logical id, resource) of the deployed resources of a type (a
        callable: of the types it accepts)."""
        conditions = self.template.get("Conditions", {})
        for logical, res in self.template["Resources"].items():
            if kind(res["Type"]) and (not res.get("Condition") or holds(res["Condition"], conditions, self.params)):
                yield logical, res

    def resolve(self, expr, attributes: dict):
        """The value of a property as deployed: Ref of a parameter or a
        resource, Fn::GetAtt of a function's Arn or of a custom resource's
        attributes (given), Fn::If; None for what it cannot tell."""
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, arg), = expr.items()
            if fn == "Ref":
                return self.params.get(arg, self.physical.get(arg))
            if fn == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                if logical in attributes:
                    return attributes[logical].get(attr)
                if attr == "Arn" and self.template["Resources"][logical]["Type"] == "AWS::Lambda::Function":
                    return self.lam.get_function_configuration(FunctionName=self.physical[logical])["FunctionArn"]
                return None
            if fn == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if holds(cond, self.template.get("Conditions", {}), self.params) else no, attributes)
            return None
        if isinstance(expr, dict):
            return {k: self.resolve(v, attributes) for k, v in expr.items()}
        if isinstance(expr, list):
            return [self.resolve(v, attributes) for v in expr]
        return expr


def _uses(expr, logicals) -> bool:
    """Whether expr reads an attribute of one of logicals."""
    if isinstance(expr, dict):
        if "Fn::GetAtt" in expr:
            arg = expr["Fn::GetAtt"]
            return (arg[0] if isinstance(arg, list) else arg.split(".", 1)[0]) in logicals
        return any(_uses(v, logicals) for v in expr.values())
    if isinstance(expr, list):
        return any(_uses(v, logicals) for v in expr)
    return False


def custom_resources(stack: str, endpoint: str) -> None:
    """Do for the stack's custom resources what CloudFormation does, on a
    local cloud that deployed them as placeholders (LocalStack's free
    edition: custom resources are a Pro feature; docs/local-cloud.md). Each
    custom resource's function is invoked with a Create request whose
    ResponseURL is a presigned S3 URL on endpoint, where the function's
    container reaches the local cloud; its answer is read back, and every
    function whose environment uses an attribute of it gets the value."""
    stack_info = Deployed(stack)
    bucket = f"{stack}-artifacts"
    s3 = boto3.client("s3")
    # Path-style, so the URL's host is the endpoint itself.
    presigner = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
    attributes = {}
    for logical, res in stack_info.resources(lambda t: t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"):
        props = stack_info.resolve(res.get("Properties", {}), {})
        token = props.get("ServiceToken")
        if not token:
            sys.exit(f"custom-resources: cannot resolve the ServiceToken of {logical}")
        key = f"custom-resources/{logical}-{uuid.uuid4()}.json"
        request = {
            "RequestType": "Create",
            "ResponseURL": presigner.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900),
            "StackId": stack_info.stack_id,
            "RequestId": str(uuid.uuid4()),
            "ResourceType": res["Type"],
            "LogicalResourceId": logical,
            "ResourceProperties": props,
        }
        out = stack_info.lam.invoke(FunctionName=token, Payload=json.dumps(request).encode())
        if out.get("FunctionError"):
            sys.exit(f"custom-resources: {logical}: {out['Payload'].read().decode()[:500]}")
        answer = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        s3.delete_object(Bucket=bucket, Key=key)
        if answer.get("Status") != "SUCCESS":
            sys.exit(f"custom-resources: {logical} failed: {answer.get('Reason')}")
        attributes[logical] = answer.get("Data") or {}
        print(f"custom resources: ran {logical} ({res['Type']}), attributes {sorted(attributes[logical])}")
    for logical, res in stack_info.resources(lambda t: t == "AWS::Lambda::Function"):
        want = res["Properties"].get("Environment", {}).get("Variables", {})
        used = {k: v for k, v in want.items() if _uses(v, attributes)}
        if not used:
            continue
        name = stack_info.physical[logical]
        variables = stack_info.lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        for k, expr in used.items():
            value = stack_info.resolve(expr, attributes)
            if value is None:
                sys.exit(f"custom-resources: cannot resolve {k} of {logical}")
            variables[k] = value
        stack_info.lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        stack_info.lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        print(f"custom resources: set {', '.join(sorted(used))} of {logical}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "ensure-bucket": ensure_bucket,
        "outputs": outputs,
        "gateway-responses": gateway_responses,
        "any-methods": any_methods,
        "sam-local-env": sam_local_env,
        "custom-resources": custom_resources,
        "verify-sender": verify_sender,
    }[cmd](*args)
