"""deploy/base.yaml: cfn-lint accepts it, it declares the table the store expects, and it deploys (on moto).

moto's CloudFormation creates the table but ignores TTL, point-in-time recovery and SSE, so those are
checked in the template itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode.decode import decode_str

from engagements.store import GSI1, GSI1PK, GSI1SK, PK, SK, TTL
from engagements.store.dynamodb import DynamoStore
from engagements.store.schema import table_definition
from tests.guard import LINT_REGIONS

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "base.yaml"


@pytest.fixture(scope="module")
def aws() -> boto3.Session:
    """Credentials that only moto accepts: nothing here may ever reach real AWS."""
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors and decoded is not None
    return decoded


def test_cfn_lint_finds_nothing() -> None:
    """Errors, warnings and informational checks; experimental rules change between releases."""
    matches = lint(TEMPLATE.read_text(), config=ManualArgs(include_checks=["I"], regions=LINT_REGIONS))
    assert [str(match) for match in matches] == []


def test_the_template_declares_the_table_the_store_expects() -> None:
    table = template()["Resources"]["Table"]
    props, expected = table["Properties"], table_definition("any")

    def by_name(entries: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return sorted(entries, key=lambda entry: entry[key])

    assert props["KeySchema"] == expected["KeySchema"]
    assert by_name(props["AttributeDefinitions"], "AttributeName") == by_name(
        expected["AttributeDefinitions"], "AttributeName"
    )
    assert props["GlobalSecondaryIndexes"] == expected["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert template()["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, aws: boto3.Session) -> dict[str, Any]:
    cloudformation = aws.client("cloudformation", endpoint_url=moto_endpoint)
    cloudformation.create_stack(
        StackName="engagements-staging",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "staging"}],
    )
    waiter = cloudformation.get_waiter("stack_create_complete")
    waiter.wait(StackName="engagements-staging", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    (created,) = cloudformation.describe_stacks(StackName="engagements-staging")["Stacks"]
    cloudformation.close()
    return created


def test_the_stack_exports_the_table_name_and_arn(stack: dict[str, Any]) -> None:
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {output["OutputKey"]: output for output in stack["Outputs"]}
    assert outputs["TableName"]["OutputValue"] == "engagements-staging"
    assert outputs["TableName"]["ExportName"] == "engagements-staging-TableName"
    assert outputs["TableArn"]["OutputValue"].endswith(":table/engagements-staging")
    assert outputs["TableArn"]["ExportName"] == "engagements-staging-TableArn"


async def test_the_deployed_table_is_one_the_store_opens_and_uses(
    stack: dict[str, Any], moto_endpoint: str, aws: boto3.Session
) -> None:
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    store = await DynamoStore.open(outputs["TableName"], endpoint_url=moto_endpoint, session=aws)
    try:
        item = {PK: "GAME#g1", SK: "META", GSI1PK: "GAMES#finished", GSI1SK: "000001#g1", "n": 1, "ok": True}
        await store.put(item)
        assert await store.get("GAME#g1", "META") == item
        assert (await store.query("GAMES#finished", index=GSI1)).items == [item]
    finally:
        await store.close()
    client = aws.client("dynamodb", endpoint_url=moto_endpoint)
    described = client.describe_table(TableName=outputs["TableName"])["Table"]
    tags = client.list_tags_of_resource(ResourceArn=outputs["TableArn"])["Tags"]
    client.close()
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["DeletionProtectionEnabled"] is False  # only prod tables are protected
    assert {tag["Key"]: tag["Value"] for tag in tags} == {"Project": "engagements", "Environment": "staging"}
