"""deploy/realtime.yaml and deploy/http.yaml: cfn-lint finds nothing, every policy rule holds, and they wire
what the issue-9 contract says (routes → integrations → functions → handlers, environment, imports, IAM).

No AWS here: these read the templates. tests/test_guard_rules.py proves each policy rule can fail.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.guard import DEPLOY, LINT_REGIONS, RULE_FILES, TEMPLATES, evaluate, load

REALTIME, HTTP = DEPLOY / "realtime.yaml", DEPLOY / "http.yaml"

# The contract's environment (shared/contracts/issue9.md), ADMIN_SECRET and AWS_ENDPOINT_URL_* aside (local
# runs only), plus PUBLIC_URL and RETENTION_DAYS, which cloud/config.py reads too.
ENVIRONMENT = {
    "PUBLIC_URL",
    "RETENTION_DAYS",
    "TABLE_NAME",
    "WEBSOCKET_ENDPOINT",
    "FANOUT_FUNCTION",
    "DEADLINE_QUEUE_URL",
    "ADMIN_SECRET_PARAMETER",
    "ENVIRONMENT",
    "POWERTOOLS_SERVICE_NAME",
    "ALLOWED_ORIGINS",
}
WEBSOCKET_HANDLERS = {
    "$connect": "cloud.handlers.websocket.connect",
    "$default": "cloud.handlers.websocket.default",
    "$disconnect": "cloud.handlers.websocket.disconnect",
}
HTTP_ROUTES = {
    "POST /api/games",
    "GET /api/games",
    "GET /api/admin",
    "POST /api/join",
    "GET /api/types",
    "GET /api/packs",
    "POST /api/packs/parse",
    "GET /api/packs/{name}",
    "GET /api/games/{id}/qr.svg",
    "GET /api/games/{id}/results.csv",
    "GET /api/games/{id}/pack.json",
    "GET /api/games/{id}/results",
    "GET /api/history",
    "GET /api/games/{id}/history",
    "GET /api/games/{id}/rounds/{round}/results",
    "GET /api/games/{id}/export.json",
    "GET /api/games/{id}/export.zip",
    "GET /api/games/{id}/export.xlsx",
    "GET /api/openapi.json",
}
HANDLERS = {
    *WEBSOCKET_HANDLERS.values(),
    "cloud.handlers.fanout.handler",
    "cloud.handlers.deadline.handler",
    "cloud.handlers.http.handler",
}


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(role: dict[str, Any], action: str) -> list[Any]:
    """The resources a role's statements allow `action` on."""
    return [
        resource
        for s in statements(role)
        if s["Effect"] == "Allow" and action in listed(s["Action"])
        for resource in listed(s["Resource"])
    ]


def import_of(export: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": export}}


def live_function(resources: dict[str, Any], target: dict[str, Any]) -> str:
    """The function API Gateway invokes through `target`: its `live` alias, on a version of it that
    CodeDeploy shifts to gradually and rolls back on the alias' errors alarm."""
    alias = resources[target["Ref"]]
    assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
    function = alias["Properties"]["FunctionName"]["Ref"]
    version = resources[alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]]
    assert version["Type"] == "AWS::Lambda::Version" and version["Properties"]["FunctionName"] == {
        "Ref": function
    }
    assert version["DeletionPolicy"] == "Retain"  # the alias may point at it until the shift is over
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    group = resources[update["DeploymentGroupName"]["Ref"]]["Properties"]
    assert group["AutoRollbackConfiguration"] == {
        "Enabled": True,
        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    (alarm,) = group["AlarmConfiguration"]["Alarms"]
    dimensions = resources[alarm["Name"]["Ref"]]["Properties"]["Dimensions"]
    assert {"Name": "Resource", "Value": {"Fn::Sub": f"${{{function}}}:live"}} in dimensions
    assert resources[alarm["Name"]["Ref"]]["Properties"]["MetricName"] == "Errors"
    return function


@pytest.mark.parametrize("path", [REALTIME, HTTP], ids=lambda p: p.name)
def test_cfn_lint_finds_nothing(path: Path) -> None:
    """Errors, warnings and informational checks, as for base.yaml in tests/test_deploy.py."""
    matches = lint(path.read_text(), config=ManualArgs(include_checks=["I"], regions=LINT_REGIONS))
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_policy_rule_holds_for_every_template(path: Path) -> None:
    template = load(path)
    verdicts = [evaluate(template, rule_file) for rule_file in RULE_FILES]
    assert [v for v in verdicts if v.status == "FAIL"] == []
    if path in (REALTIME, HTTP):  # only the S3 and CloudFront rules have nothing to look at in them
        assert {v.rule for v in verdicts if v.status == "SKIP"} == {
            "s3_no_public_bucket",
            "s3_tls_only",
            "cloudfront_origin_access_control",
            "cloudfront_security_headers",
        }


def test_the_websocket_api_routes_each_route_to_its_handler() -> None:
    template = load(REALTIME)
    resources = template["Resources"]
    (api,) = of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] in ("$request.body.type", "$default")
    routes = of_type(template, "AWS::ApiGatewayV2::Route").values()
    handlers = {}
    for route in routes:
        target = route["Properties"]["Target"]["Fn::Sub"]
        integration = resources[target.removeprefix("integrations/${").removesuffix("}")]
        assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert integration["Properties"]["TimeoutInMillis"] <= 29_000
        uri = integration["Properties"]["IntegrationUri"]["Fn::Sub"]
        function = live_function(resources, {"Ref": uri.split("/functions/${")[1].split("}")[0]})
        handlers[route["Properties"]["RouteKey"]] = resources[function]["Properties"]["Handler"]
    assert handlers == WEBSOCKET_HANDLERS


def test_the_http_api_routes_the_contracts_routes_to_one_handler() -> None:
    template = load(HTTP)
    resources = template["Resources"]
    (api,) = of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"
    cors = api["Properties"]["CorsConfiguration"]
    assert (
        cors["AllowOrigins"] == {"Ref": "AllowedOrigins"}
        and "Default" not in template["Parameters"]["AllowedOrigins"]
    )
    assert cors["AllowCredentials"] is False and {"authorization", "content-type"} <= set(
        cors["AllowHeaders"]
    )
    routes = of_type(template, "AWS::ApiGatewayV2::Route").values()
    assert {route["Properties"]["RouteKey"] for route in routes} == HTTP_ROUTES
    for route in routes:
        integration = resources[route["Properties"]["Target"]["Fn::Sub"].split("${")[1].rstrip("}")]
        assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
        function = live_function(resources, integration["Properties"]["IntegrationUri"])
        assert resources[function]["Properties"]["Handler"] == "cloud.handlers.http.handler"


@pytest.mark.parametrize("path", [REALTIME, HTTP], ids=lambda p: p.name)
def test_every_function_runs_the_package_with_the_contracts_environment(path: Path) -> None:
    template = load(path)
    functions = of_type(template, "AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        props = function["Properties"]
        assert set(props["Environment"]["Variables"]) == ENVIRONMENT, name
        assert props["Environment"]["Variables"]["TABLE_NAME"] == import_of("${BaseStack}-TableName")
        assert props["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == [{"Ref": "Architecture"}]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Handler"] in HANDLERS
    for parameter in ("Environment", "BaseStack", "CodeBucket", "CodeKey", "AdminSecretParameter"):
        assert parameter in template["Parameters"]
    assert template["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]


def test_deadlines_come_from_a_delay_queue_with_a_dead_letter_queue() -> None:
    template = load(REALTIME)
    resources = template["Resources"]
    (mapping,) = of_type(template, "AWS::Lambda::EventSourceMapping").values()
    queue = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
    function = resources[mapping["Properties"]["FunctionName"]["Ref"]]
    assert function["Properties"]["Handler"] == "cloud.handlers.deadline.handler"
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    redrive = resources[queue]["Properties"]["RedrivePolicy"]
    assert resources[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
    # A message stays invisible while the function works on it: at least its timeout.
    assert resources[queue]["Properties"]["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]


def test_the_realtime_roles_grant_each_thing_on_its_one_resource() -> None:
    template = load(REALTIME)
    roles = of_type(template, "AWS::IAM::Role")
    table = [
        import_of("${BaseStack}-TableArn"),
        {"Fn::Sub": ["${TableArn}/index/GSI1", {"TableArn": import_of("${BaseStack}-TableArn")}]},
    ]
    connections = (
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${Environment}/"
    )
    function_roles = {
        f["Properties"]["Handler"]: roles[f["Properties"]["Role"]["Fn::GetAtt"][0]]
        for f in of_type(template, "AWS::Lambda::Function").values()
    }
    for handler, role in function_roles.items():
        assert granted(role, "dynamodb:PutItem") == table, handler
        assert granted(role, "ssm:GetParameter") == [], handler  # game tokens, not the admin secret
        for resource in granted(role, "execute-api:ManageConnections"):
            assert resource["Fn::Sub"] in (
                connections + "POST/@connections/*",
                connections + "DELETE/@connections/*",
            )
        for resource in granted(role, "lambda:InvokeFunction"):
            assert resource == {"Fn::GetAtt": ["FanoutFunction", "Arn"]}
        for resource in granted(role, "sqs:SendMessage") + granted(role, "sqs:ReceiveMessage"):
            assert resource == {"Fn::GetAtt": ["DeadlineQueue", "Arn"]}
    assert granted(function_roles["cloud.handlers.websocket.connect"], "execute-api:ManageConnections") == []
    assert granted(function_roles["cloud.handlers.websocket.default"], "lambda:InvokeFunction")
    assert granted(function_roles["cloud.handlers.websocket.default"], "sqs:SendMessage")
    assert granted(function_roles["cloud.handlers.deadline.handler"], "sqs:ReceiveMessage")
    assert granted(function_roles["cloud.handlers.fanout.handler"], "lambda:InvokeFunction") == []


def test_the_http_role_reads_the_admin_secret_parameter_only() -> None:
    template = load(HTTP)
    role = template["Resources"][template["Resources"]["Function"]["Properties"]["Role"]["Fn::GetAtt"][0]]
    parameter = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${AdminSecretParameter}"
    assert granted(role, "ssm:GetParameter") == [{"Fn::Sub": parameter}]
    assert granted(role, "execute-api:ManageConnections") == [
        import_of("${RealtimeStack}-ManageConnectionsArn")
    ]
    assert granted(role, "lambda:InvokeFunction") == [import_of("${RealtimeStack}-FanoutFunctionArn")]
    assert template["Parameters"]["AdminSecretParameter"]["AllowedPattern"].startswith("^/")


def test_the_outputs_are_exported_for_the_other_stacks_and_the_pages() -> None:
    realtime, http = load(REALTIME)["Outputs"], load(HTTP)["Outputs"]
    assert realtime["WebSocketUrl"]["Value"]["Fn::Sub"].startswith("wss://${WebSocketApi}.execute-api.")
    assert realtime["ManagementEndpoint"]["Value"]["Fn::Sub"].startswith(
        "https://${WebSocketApi}.execute-api."
    )
    assert realtime["ManagementEndpoint"]["Value"]["Fn::Sub"].endswith("/${Environment}")
    assert http["HttpApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    imported = {
        value["Fn::ImportValue"]["Fn::Sub"].removeprefix("${RealtimeStack}-")
        for value in load(HTTP)["Resources"]["Function"]["Properties"]["Environment"]["Variables"].values()
        if isinstance(value, dict) and "Fn::ImportValue" in value and "RealtimeStack" in str(value)
    }
    assert imported and all(
        realtime[name]["Export"]["Name"]["Fn::Sub"] == f"${{AWS::StackName}}-{name}" for name in imported
    )
    for outputs in (realtime, http):
        for name, output in outputs.items():
            if "Export" in output:
                assert output["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}


@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_every_handler_the_templates_name_exists_in_the_package(handler: str) -> None:
    module, _, function = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))


# Types of these stacks that take no tags (AWS::ApiGateway::Account is an account setting).
UNTAGGABLE = {
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGateway::Account",
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::CloudWatch::Dashboard",
    "AWS::SNS::Subscription",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::S3::BucketPolicy",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::ResponseHeadersPolicy",
}


def test_the_tag_rule_knows_every_taggable_type_the_templates_use() -> None:
    """A resource of a new type must be added to deploy/rules/tags.guard, or here when it takes no tags."""
    rule = (DEPLOY / "rules" / "tags.guard").read_text()
    used = {r["Type"] for path in TEMPLATES for r in load(path)["Resources"].values()}
    assert {kind for kind in used - UNTAGGABLE if f"'{kind}'" not in rule} == set()
