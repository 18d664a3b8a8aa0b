"""Where finished games go: a table named outright, or the one the base stack created."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.parsers import ResponseParserError

from engagements.lifecycle import CLOUD_RETENTION_DAYS
from engagements.store.base import StoreError
from engagements.store.dynamodb import DynamoStore

TABLE_OUTPUT = "TableName"


@dataclass(frozen=True)
class Target:
    table: str | None = None
    stack: str | None = None
    endpoint_url: str | None = None  # DynamoDB Local, moto or another compatible server; AWS when unset
    region: str | None = None
    cloud_retention_days: int = CLOUD_RETENTION_DAYS  # how long the cloud keeps a synced game


async def open_cloud(target: Target) -> DynamoStore:
    """The cloud store, or a StoreError whose message is the one line an admin needs."""
    if not target.table and not target.stack:
        raise StoreError("no cloud table: pass --table or --stack (or set ENGAGEMENTS_CLOUD_TABLE)")
    table = target.table or await asyncio.to_thread(stack_table, target)
    return await DynamoStore.open(table, endpoint_url=target.endpoint_url, region=target.region)


def stack_table(target: Target) -> str:
    """The table name from the base stack's outputs (deploy/base.yaml)."""
    try:
        client = boto3.Session().client(
            "cloudformation", endpoint_url=target.endpoint_url, region_name=target.region
        )
        stacks = client.describe_stacks(StackName=target.stack)["Stacks"]
    except NoRegionError:
        raise StoreError("no AWS region configured: pass --region or set AWS_REGION") from None
    except NoCredentialsError:
        raise StoreError("no AWS credentials found") from None
    except EndpointConnectionError:
        raise StoreError(f"cannot reach CloudFormation at {target.endpoint_url or 'AWS'}") from None
    except ClientError as e:
        error = e.response.get("Error", {})
        message = error.get("Message", "")
        if error.get("Code") == "ValidationError" and "does not exist" in message:
            raise StoreError(f"no such stack {target.stack}: {message}") from None
        if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            raise StoreError(f"not allowed to read stack {target.stack}: {message}") from None
        raise _no_cloudformation(target) from None
    except ResponseParserError:  # an endpoint that answers, but not in CloudFormation's language
        raise _no_cloudformation(target) from None
    except BotoCoreError as e:
        raise StoreError(f"CloudFormation: {e}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if TABLE_OUTPUT not in outputs:
        raise StoreError(
            f"stack {target.stack} has no {TABLE_OUTPUT} output: is it the Engagements base stack?"
        )
    return outputs[TABLE_OUTPUT]


def _no_cloudformation(target: Target) -> StoreError:
    return StoreError(
        f"{target.endpoint_url or 'the endpoint'} does not answer CloudFormation, so --stack cannot "
        "name the table there: pass --table instead"
    )
