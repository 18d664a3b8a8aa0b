"""Creating or updating one stack through a CloudFormation change set: plan it, show it, run or discard it.

A change set is CloudFormation's own answer to "what would this do": the resources it would add, modify
(and whether it replaces them) or remove. `engagements deploy` shows it before running it, and
`--dry-run` stops there and deletes it. A stack that does not exist yet gets a CREATE change set, which
leaves an empty stack in REVIEW_IN_PROGRESS behind until it runs: discarding the plan deletes that too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, WaiterError

NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# How long a stack may take: CodeDeploy's linear shift alone takes ten minutes in prod.
STACK_WAIT = {"Delay": 5, "MaxAttempts": 720}
CHANGE_SET_WAIT = {"Delay": 2, "MaxAttempts": 300}
TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation takes inline (TemplateBody)


class DeployError(Exception):
    """A deploy that cannot go on, told in one line."""


@dataclass(frozen=True)
class Change:
    action: str  # Add, Modify, Remove (CloudFormation's words)
    resource: str  # the logical id
    type: str
    replacement: str = ""  # True, False or Conditional for a Modify


@dataclass
class Plan:
    kind: str
    stack: str
    creating: bool
    changes: list[Change] = field(default_factory=list)
    change_set: str | None = None  # its ARN, while it exists
    note: str = ""  # why the plan is not CloudFormation's own, when it is not

    @property
    def empty(self) -> bool:
        """CloudFormation found nothing to do. (A change set may change no resource and still have work:
        new parameters or outputs only.)"""
        return self.change_set is None and not self.changes


def describe(cloudformation: Any, name: str) -> dict[str, Any] | None:
    """The stack, or None when there is none (a deleted stack is none)."""
    try:
        (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as e:
        if "does not exist" in e.response.get("Error", {}).get("Message", ""):
            return None
        raise
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def plan(
    cloudformation: Any,
    kind: str,
    stack: str,
    template: str,
    parameters: dict[str, str],
    tags: dict[str, str],
    iam: bool,
) -> Plan:
    """CloudFormation's change set for `stack` with this template and these parameters."""
    if len(template.encode()) > TEMPLATE_BODY_LIMIT:
        raise DeployError(f"the {kind} template is over CloudFormation's {TEMPLATE_BODY_LIMIT} bytes inline")
    current = describe(cloudformation, stack)
    status = current["StackStatus"] if current else ""
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack} failed to create and was rolled back: delete it (`engagements deploy --destroy`) "
            "and deploy again"
        )
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack} is busy ({status}): wait for it to finish")
    creating = current is None or status == "REVIEW_IN_PROGRESS"
    result = Plan(kind, stack, creating)
    try:
        created = cloudformation.create_change_set(
            StackName=stack,
            ChangeSetName=f"engagements-{time.time_ns()}",
            ChangeSetType="CREATE" if creating else "UPDATE",
            TemplateBody=template,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"] if iam else [],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    except ClientError as e:
        if _no_changes(e.response.get("Error", {}).get("Message", "")):
            return result
        raise
    result.change_set = created["Id"]
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=result.change_set, WaiterConfig=CHANGE_SET_WAIT
        )
    except WaiterError:
        reason = cloudformation.describe_change_set(ChangeSetName=result.change_set).get("StatusReason", "")
        discard(cloudformation, result)
        if _no_changes(reason):
            return result
        raise DeployError(f"{stack}: CloudFormation refused the change set: {reason}") from None
    result.changes = list(_changes(cloudformation, result.change_set))
    return result


def _no_changes(message: str) -> bool:
    return any(words in message for words in NO_CHANGES)


def _changes(cloudformation: Any, change_set: str) -> Iterable[Change]:
    token: dict[str, str] = {}
    while True:
        page = cloudformation.describe_change_set(ChangeSetName=change_set, **token)
        for change in page.get("Changes", []):
            resource = change.get("ResourceChange", {})
            yield Change(
                resource.get("Action", "?"),
                resource.get("LogicalResourceId", "?"),
                resource.get("ResourceType", "?"),
                resource.get("Replacement", ""),
            )
        if not page.get("NextToken"):
            return
        token = {"NextToken": page["NextToken"]}


_RESOURCE = re.compile(r"^  ([A-Za-z0-9]+):\n(?:    #.*\n)*    Type: (\S+)", re.MULTILINE)


def planned_from_template(kind: str, stack: str, template: str, missing: list[str]) -> Plan:
    """What a new stack would add, read from its template: its change set cannot be made before the
    stacks whose exports it imports exist."""
    resources = template.split("\nResources:\n", 1)[1].split("\nOutputs:\n", 1)[0]
    changes = [Change("Add", name, kind_) for name, kind_ in _RESOURCE.findall("\n" + resources)]
    return Plan(kind, stack, True, changes, note=f"from the template: {', '.join(missing)} must exist first")


def execute(cloudformation: Any, plan: Plan) -> dict[str, Any]:
    """Runs the plan's change set and waits for the stack; the stack as it then is."""
    assert plan.change_set is not None
    cloudformation.execute_change_set(ChangeSetName=plan.change_set)
    waiter = "stack_create_complete" if plan.creating else "stack_update_complete"
    try:
        cloudformation.get_waiter(waiter).wait(StackName=plan.stack, WaiterConfig=STACK_WAIT)
    except WaiterError:
        raise DeployError(f"{plan.stack} failed: {failure(cloudformation, plan.stack)}") from None
    plan.change_set = None
    stack = describe(cloudformation, plan.stack)
    assert stack is not None
    return stack


def failure(cloudformation: Any, stack: str) -> str:
    """The first resource that failed, and why (the root cause; the rest failed because of it)."""
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [
        e for e in events if e.get("ResourceStatus", "").endswith("_FAILED") and e.get("ResourceStatusReason")
    ]
    if not failed:
        return "see its events in the CloudFormation console"
    first = failed[-1]  # events come newest first
    return f"{first['LogicalResourceId']} ({first['ResourceType']}): {first['ResourceStatusReason']}"


def discard(cloudformation: Any, plan: Plan) -> None:
    """Deletes the plan's change set unexecuted, and the empty stack a CREATE change set made."""
    if plan.change_set is None:
        return
    cloudformation.delete_change_set(ChangeSetName=plan.change_set)
    plan.change_set = None
    if plan.creating:
        stack = describe(cloudformation, plan.stack)
        if stack is not None and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            cloudformation.delete_stack(StackName=plan.stack)


def delete(cloudformation: Any, stack: str) -> None:
    cloudformation.delete_stack(StackName=stack)
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=STACK_WAIT)
    except WaiterError:
        raise DeployError(f"deleting {stack} failed: {failure(cloudformation, stack)}") from None


def table(plan: Plan) -> str:
    """The plan as the operator reads it: one line per resource, CloudFormation's words."""
    verb = "create" if plan.creating else "update"
    if plan.empty:
        return f"{plan.stack}: no changes"
    if not plan.changes:
        return f"{plan.stack} ({verb}): no resource changes, new parameters or outputs only"
    count = f"{len(plan.changes)} change{'s' if len(plan.changes) != 1 else ''}"
    head = f"{plan.stack} ({verb}, {count}{'; ' + plan.note if plan.note else ''}):"
    rows = [("ACTION", "RESOURCE", "TYPE", "REPLACEMENT")]
    rows += [(c.action, c.resource, c.type, c.replacement) for c in plan.changes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
    return "\n".join([head, *(line.rstrip() for line in lines)])
