"""base → realtime → http deploy in that order on moto's CloudFormation, and each stack finds what the one
before exports: the table, the management endpoint, the fan-out function and the deadline queue.

What this proves and what it does not: moto creates the functions, their versions, roles, queues, log
groups and the SQS event source, and resolves parameters, Fn::ImportValue and exports as CloudFormation
does. It skips every AWS::ApiGatewayV2 resource but the APIs, the CodeDeploy resources and the fan-out's
AWS::Lambda::EventInvokeConfig (tests/test_stacks.py checks that wiring in the templates), and ignores
Architectures and TracingConfig. It skips the `live` aliases, the APIs and the alarms too, which the
permissions and outputs need: tests/moto_change_sets.py stands in for them while the stacks are made (an
alias is a real one of moto's Lambda, on the version the stack published).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests import moto_change_sets

# moto warns ("Tried to parse ...") of each resource type it skips, from its server thread; the docstring
# says what that leaves out.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
REGION = "eu-north-1"  # apart from the other tests' stacks on the same moto server
BASE, REALTIME, HTTP = "engagements-prod", "engagements-realtime-prod", "engagements-http-prod"
CODE = {"CodeBucket": "engagements-code", "CodeKey": "cloud-lambda/0123abcd.zip"}


def placeholder_zip() -> bytes:
    """moto stores the code without running it: any zip stands for artifacts/cloud-lambda.zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cloud/__init__.py", "")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws() -> boto3.Session:
    """Credentials that only moto accepts: nothing here may ever reach real AWS."""
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def stacks(moto_endpoint: str, aws: boto3.Session) -> dict[str, dict[str, str]]:
    """The three stacks as deploy/README.md deploys them; each stack's outputs by key."""
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=CODE["CodeBucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=CODE["CodeBucket"], Key=CODE["CodeKey"], Body=placeholder_zip())
    cloudformation = aws.client("cloudformation", endpoint_url=moto_endpoint)
    realtime = {
        "Environment": "prod",
        "BaseStack": BASE,
        "AllowedOrigins": "https://play.example.org",
        **CODE,
    }
    http = {**realtime, "RealtimeStack": REALTIME}
    outputs = {}
    moto_change_sets.install()
    try:
        for name, template, parameters in [
            (BASE, "base.yaml", {"Environment": "prod"}),
            (REALTIME, "realtime.yaml", realtime),
            (HTTP, "http.yaml", http),
        ]:
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=(DEPLOY / template).read_text(),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                Capabilities=["CAPABILITY_IAM"],
            )
            waiter = cloudformation.get_waiter("stack_create_complete")
            waiter.wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            (created,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
            assert created["StackStatus"] == "CREATE_COMPLETE"
            outputs[name] = {o["OutputKey"]: o["OutputValue"] for o in created.get("Outputs", [])}
    finally:
        moto_change_sets.uninstall()
    cloudformation.close()
    s3.close()
    return outputs


@pytest.fixture(scope="module")
def functions(stacks: dict[str, dict[str, str]], moto_endpoint: str, aws: boto3.Session) -> dict[str, Any]:
    """Every function the stacks created, by handler."""
    client = aws.client("lambda", endpoint_url=moto_endpoint)
    found = {f["Handler"]: f for f in client.list_functions()["Functions"]}
    client.close()
    return found


def test_every_function_is_created_from_the_uploaded_package(functions: dict[str, Any]) -> None:
    assert set(functions) == {
        "cloud.handlers.websocket.connect",
        "cloud.handlers.websocket.default",
        "cloud.handlers.websocket.disconnect",
        "cloud.handlers.fanout.handler",
        "cloud.handlers.deadline.handler",
        "cloud.handlers.http.handler",
    }
    assert {f["Runtime"] for f in functions.values()} == {"python3.12"}


def test_every_function_names_the_table_fanout_and_queue_the_stacks_created(
    stacks: dict[str, dict[str, str]], functions: dict[str, Any]
) -> None:
    realtime = stacks[REALTIME]
    fanout = functions["cloud.handlers.fanout.handler"]
    assert realtime["FanoutFunctionName"] == fanout["FunctionName"] == f"{REALTIME}-fanout"
    for handler, function in functions.items():
        variables = function["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == stacks[BASE]["TableName"] == "engagements-prod", handler
        assert variables["FANOUT_FUNCTION"] == fanout["FunctionName"], handler
        assert variables["DEADLINE_QUEUE_URL"] == realtime["DeadlineQueueUrl"], handler
        assert variables["WEBSOCKET_ENDPOINT"] == realtime["ManagementEndpoint"], handler
        assert variables["ENVIRONMENT"] == "prod", handler
        assert variables["ADMIN_SECRET_PARAMETER"] == "/engagements/admin-secret", handler
        assert "ADMIN_SECRET" not in variables, handler


def test_the_deadline_queue_feeds_the_deadline_function_and_fails_into_its_dead_letter_queue(
    stacks: dict[str, dict[str, str]], functions: dict[str, Any], moto_endpoint: str, aws: boto3.Session
) -> None:
    realtime = stacks[REALTIME]
    sqs = aws.client("sqs", endpoint_url=moto_endpoint)
    attributes = sqs.get_queue_attributes(QueueUrl=realtime["DeadlineQueueUrl"], AttributeNames=["All"])
    dead_letters = sqs.get_queue_attributes(
        QueueUrl=realtime["DeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )
    sqs.close()
    assert realtime["DeadlineQueueArn"] == attributes["Attributes"]["QueueArn"]
    assert dead_letters["Attributes"]["QueueArn"] in attributes["Attributes"]["RedrivePolicy"]
    client = aws.client("lambda", endpoint_url=moto_endpoint)
    (mapping,) = client.list_event_source_mappings(EventSourceArn=realtime["DeadlineQueueArn"])[
        "EventSourceMappings"
    ]
    client.close()
    assert mapping["FunctionArn"] == functions["cloud.handlers.deadline.handler"]["FunctionArn"]


def test_api_gateway_invokes_a_published_version_through_the_live_alias(
    functions: dict[str, Any], moto_endpoint: str, aws: boto3.Session
) -> None:
    client = aws.client("lambda", endpoint_url=moto_endpoint)
    for handler in (
        "cloud.handlers.websocket.connect",
        "cloud.handlers.websocket.default",
        "cloud.handlers.websocket.disconnect",
        "cloud.handlers.http.handler",
    ):
        name = functions[handler]["FunctionName"]
        alias = client.get_alias(FunctionName=name, Name="live")
        versions = [v["Version"] for v in client.list_versions_by_function(FunctionName=name)["Versions"]]
        assert alias["FunctionVersion"] in versions and alias["FunctionVersion"] != "$LATEST", handler
    client.close()


def test_the_stacks_export_what_the_next_imports(stacks: dict[str, dict[str, str]]) -> None:
    realtime = stacks[REALTIME]
    assert realtime["FanoutFunctionArn"].endswith(f":function:{REALTIME}-fanout")
    assert realtime["ManageConnectionsArn"].endswith("/prod/POST/@connections/*")
    assert realtime["WebSocketUrl"].startswith("wss://") and realtime["WebSocketUrl"].endswith("/prod")
    assert realtime["ManagementEndpoint"].startswith("https://")
    assert stacks[HTTP]["HttpApiUrl"].startswith("https://")
