"""The DynamoDB table the store expects, in one place for the store, the tests, the CLI and deploy/.

deploy/base.yaml declares the same table for CloudFormation; tests/test_deploy.py checks the two agree.
"""

from __future__ import annotations

from typing import Any

from .base import GSI1, GSI1PK, GSI1SK, PK, SK, TTL

KEYS = ((PK, "HASH"), (SK, "RANGE"))
GSI1_KEYS = ((GSI1PK, "HASH"), (GSI1SK, "RANGE"))


def table_definition(name: str) -> dict[str, Any]:
    """Keyword arguments for the low-level client's create_table."""
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": attr, "KeyType": kind} for attr, kind in KEYS],
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": "S"} for attr in (PK, SK, GSI1PK, GSI1SK)
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1,
                "KeySchema": [{"AttributeName": attr, "KeyType": kind} for attr, kind in GSI1_KEYS],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(client: Any, name: str) -> None:
    """Creates the table, waits until it is usable and turns TTL on (a separate call in DynamoDB's API).

    `client` is a boto3 DynamoDB client; this blocks, so async callers run it in a thread.
    """
    client.create_table(**table_definition(name))
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL}
    )


def schema_problems(table: dict[str, Any]) -> list[str]:
    """What differs between a DescribeTable `Table` and table_definition, empty when they agree.

    Only what the store relies on is checked: key names and types, and GSI1 with every attribute.
    """
    types = {d["AttributeName"]: d["AttributeType"] for d in table.get("AttributeDefinitions", [])}
    problems = []

    def check_keys(
        where: str, key_schema: list[dict[str, str]], expected: tuple[tuple[str, str], ...]
    ) -> None:
        found = tuple((k["AttributeName"], k["KeyType"]) for k in key_schema)
        if sorted(found, key=lambda k: k[1]) != list(expected):
            problems.append(f"{where} key is {_show(found)}, expected {_show(expected)}")
        for attr, _ in expected:
            if attr in dict(found) and types.get(attr) != "S":
                problems.append(f"{attr} is of type {types.get(attr)}, expected S (string)")

    check_keys("table", table.get("KeySchema", []), KEYS)
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    if GSI1 not in indexes:
        problems.append(f"no global secondary index {GSI1}")
    else:
        check_keys(GSI1, indexes[GSI1]["KeySchema"], GSI1_KEYS)
        projection = indexes[GSI1]["Projection"]["ProjectionType"]
        if projection != "ALL":
            problems.append(f"{GSI1} projects {projection}, expected ALL")
    return problems


def _show(keys: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{attr} ({kind})" for attr, kind in keys) or "nothing"
