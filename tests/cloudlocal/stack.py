"""The base stack, deployed on moto: the tables of deploy/base.yaml and the exports other stacks import.

moto's own CloudFormation would create the table too, but not its TTL, and it does not know the exports'
values before the stack exists; reading the template with the same resolver as the gateway keeps one way of
naming things.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .template import Locale, read


def deploy_base(template: Path, *, stack_name: str, dynamodb: Any, locale: Locale) -> dict[str, str]:
    """Creates the template's tables (with TTL) unless they exist; returns its exports under `stack_name`.

    `dynamodb` is a boto3 client; this blocks until the tables are active.
    """
    wiring = read([template], locale, stack_name=stack_name)
    existing = set(dynamodb.list_tables()["TableNames"])
    for table in wiring.tables:
        name = table["definition"]["TableName"]
        if name in existing:
            continue
        dynamodb.create_table(**table["definition"])
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        if table["ttl"]:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=table["ttl"])
    return wiring.exports
