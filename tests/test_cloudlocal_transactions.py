"""The test double's DynamoDB transactions (tests/cloudlocal/transactions.py, on conftest's moto server):
all or nothing, and a refused one undoes only its own items, never what other requests wrote meanwhile."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(moto_endpoint, aws_env):
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = f"transactions-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client, name
    client.delete_table(TableName=name)


def refused(name: str, n: int) -> list[dict]:
    """A transaction that writes a new item, then fails a condition: it must write nothing."""
    return [
        {"Put": {"TableName": name, "Item": {"PK": {"S": "T"}, "SK": {"S": f"new{n}"}}}},
        {
            "Update": {
                "TableName": name,
                "Key": {"PK": {"S": "T"}, "SK": {"S": "meta"}},
                "UpdateExpression": "SET v = :v",
                "ConditionExpression": "v = :never",
                "ExpressionAttributeValues": {":v": {"N": "2"}, ":never": {"N": "-1"}},
            }
        },
    ]


def test_a_refused_transaction_writes_nothing_and_undoes_nothing_else(table):
    client, name = table
    client.put_item(TableName=name, Item={"PK": {"S": "T"}, "SK": {"S": "meta"}, "v": {"N": "1"}})
    for i in range(0, 2000, 25):  # a large table: the old way copied all of it for every item
        client.batch_write_item(
            RequestItems={
                name: [
                    {"PutRequest": {"Item": {"PK": {"S": "G"}, "SK": {"S": f"i{j:05d}"}}}}
                    for j in range(i, i + 25)
                ]
            }
        )
    written: list[str] = []

    def writer() -> None:
        for i in range(150):
            client.put_item(TableName=name, Item={"PK": {"S": "W"}, "SK": {"S": f"w{i:04d}"}})
            written.append(f"w{i:04d}")

    thread = threading.Thread(target=writer)
    thread.start()
    for n in range(20):
        with pytest.raises(ClientError) as raised:
            client.transact_write_items(TransactItems=refused(name, n))
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    thread.join()

    found = client.query(
        TableName=name, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "W"}}
    )["Items"]
    assert sorted(i["SK"]["S"] for i in found) == written, "a refused transaction undid other writes"
    new = client.query(
        TableName=name, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "T"}}
    )["Items"]
    assert [(i["SK"]["S"], i["v"]["N"]) for i in new] == [("meta", "1")], "all or nothing"
