"""`engagements deploy` against moto's server on 127.0.0.1: a dry run plans every stack and creates nothing,
a deploy creates the five stacks and uploads the code and the pages, a second deploy changes nothing, and
`--destroy` deletes it all.

What moto makes real here and what it does not: S3 (the code and pages buckets and their objects),
CloudFormation's change sets (created, described and deleted by moto; executed through
tests/moto_change_sets.py, which makes their stacks' outputs and exports work), IAM roles, Lambda
functions and versions, DynamoDB, SQS, SNS, log groups and the dashboard. It skips every
AWS::ApiGatewayV2, AWS::CodeDeploy and AWS::CloudWatch::Alarm resource, the Lambda aliases, the S3
bucket policy and the CloudFront function, origin access control and headers policy, and stands in for
the distribution (tests/moto_change_sets.py): those are checked in the templates only
(tests/test_stacks.py, tests/test_web_stack.py, tests/test_guard_rules.py).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from deploy.changesets import TEMPLATE_BODY_LIMIT, planned_from_template
from deploy.stacks import ORDER, Environment, template
from tests import moto_change_sets
from tests.guard import load
from web.cli import main

# moto warns of each resource type it skips, from its server thread; the docstring says which.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

REGION = "ap-southeast-2"  # apart from the other tests' stacks on the same moto server
ENV = Environment("staging", "", "")
STACKS = [ENV.stack(kind) for kind in ORDER]
CREDENTIALS = {  # only moto accepts these: nothing here may reach real AWS
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_REGION": None,
    "AWS_DEFAULT_REGION": None,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Runs:
    dry_run: Result
    stacks_after_dry_run: list[str]
    first: Result
    outputs: dict[str, dict[str, str]]
    code_keys: list[str]
    pages: dict[str, dict[str, Any]]
    functions: list[dict[str, Any]]
    invalidations: int
    planned_change: Result
    alarm_email_after_plan: str
    change_sets_after_plan: int
    second: Result
    invalidations_after_second: int
    destroy: Result
    stacks_after_destroy: list[str]


def live_stacks(cloudformation: Any) -> list[str]:
    return sorted(
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"] in STACKS
    )


@pytest.fixture(scope="module")
def runs(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Dry run, deploy, deploy again, destroy: what each printed and what AWS (moto) held after it."""
    package = tmp_path_factory.mktemp("deploy") / "cloud-lambda.zip"
    with zipfile.ZipFile(package, "w") as archive:  # moto stores the code without running it
        archive.writestr("cloud/__init__.py", "")
    aws = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    cloudformation = aws.client("cloudformation", endpoint_url=moto_endpoint)
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    cloudfront = aws.client("cloudfront", endpoint_url=moto_endpoint)
    runner = CliRunner()
    common = ["deploy", "--env", "staging", "--region", REGION, "--endpoint-url", moto_endpoint]

    def deploy(*extra: str) -> Result:
        return runner.invoke(main, [*common, "--package", str(package), *extra], env=CREDENTIALS)

    moto_change_sets.install()
    try:
        dry_run = deploy("--dry-run")
        stacks_after_dry_run = live_stacks(cloudformation)
        first = deploy()
        outputs = {
            s["StackName"]: {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])}
            for s in cloudformation.describe_stacks()["Stacks"]
            if s["StackName"] in STACKS
        }
        code_bucket = f"engagements-code-123456789012-{REGION}"
        code_keys = [o["Key"] for o in s3.list_objects_v2(Bucket=code_bucket).get("Contents", [])]
        web = outputs.get(ENV.stack("web"), {})
        pages = {}
        if "BucketName" in web:
            for item in s3.list_objects_v2(Bucket=web["BucketName"]).get("Contents", []):
                head = s3.head_object(Bucket=web["BucketName"], Key=item["Key"])
                pages[item["Key"]] = {"type": head["ContentType"], "cache": head.get("CacheControl")}
        functions = aws.client("lambda", endpoint_url=moto_endpoint).list_functions()["Functions"]

        def invalidations() -> int:
            if "DistributionId" not in web:
                return 0
            listed = cloudfront.list_invalidations(DistributionId=web["DistributionId"])
            return listed["InvalidationList"]["Quantity"]

        invalidations_after_first = invalidations()
        planned_change = deploy("--dry-run", "--alarm-email", "oncall@example.org")
        monitoring = ENV.stack("monitoring")
        (watched,) = cloudformation.describe_stacks(StackName=monitoring)["Stacks"]
        alarm_email = {p["ParameterKey"]: p["ParameterValue"] for p in watched["Parameters"]}["AlarmEmail"]
        change_sets = sum(  # executed ones are history; a plan's must be gone
            summary["StackName"] == stack and summary["ExecutionStatus"] == "AVAILABLE"
            for stack in STACKS
            for summary in cloudformation.list_change_sets(StackName=stack)["Summaries"]
        )
        second = deploy()
        invalidations_after_second = invalidations()
        destroy = runner.invoke(main, [*common, "--destroy", "--yes"], env=CREDENTIALS)
        yield Runs(
            dry_run,
            stacks_after_dry_run,
            first,
            outputs,
            code_keys,
            pages,
            [f for f in functions if f["FunctionName"].startswith("engagements-")],
            invalidations_after_first,
            planned_change,
            alarm_email,
            change_sets,
            second,
            invalidations_after_second,
            destroy,
            live_stacks(cloudformation),
        )
    finally:
        moto_change_sets.uninstall()
        for client in (cloudformation, s3, cloudfront):
            client.close()


def test_a_dry_run_plans_every_stack_and_creates_nothing(runs: Runs) -> None:
    result = runs.dry_run
    assert result.exit_code == 0, result.output
    for stack in STACKS:
        assert f"{stack} (create, " in result.output
    assert "  Add     Table  " in result.output  # the base stack's change set, from CloudFormation
    assert "from the template: engagements-staging must exist first" in result.output
    assert "code: would upload" in result.output
    assert "Dry run: nothing was changed" in result.output
    assert runs.stacks_after_dry_run == []


def test_a_deploy_creates_the_stacks_in_order_and_prints_where_they_are(runs: Runs) -> None:
    result = runs.first
    assert result.exit_code == 0, result.output
    created = [line.split(":")[0] for line in result.output.splitlines() if line.endswith(": created")]
    assert created == STACKS
    site = runs.outputs[ENV.stack("web")]["SiteUrl"]
    assert site.startswith("https://") and site.endswith(".cloudfront.net")
    assert f"Pages:      {site}" in result.output
    assert f"HTTP API:   {runs.outputs[ENV.stack('http')]['HttpApiUrl']}" in result.output
    assert f"WebSocket:  {runs.outputs[ENV.stack('realtime')]['WebSocketUrl']}" in result.output
    # The first deploy makes the APIs before their pages' site, then lets them allow it.
    assert f"The pages' site is {site}: the APIs now allow it." in result.output
    for function in runs.functions:
        variables = function["Environment"]["Variables"]
        assert variables["ALLOWED_ORIGINS"] == site and variables["PUBLIC_URL"] == site


def test_the_code_is_uploaded_under_its_hash_and_the_functions_run_it(runs: Runs) -> None:
    (key,) = runs.code_keys
    assert key.startswith("cloud-lambda/") and key.endswith(".zip")
    assert f"code: s3://engagements-code-123456789012-{REGION}/{key} (uploaded)" in runs.first.output
    assert len(runs.functions) == 6


def test_the_pages_are_uploaded_with_their_types_and_cache_headers(runs: Runs) -> None:
    pages = runs.pages
    for page in ("home.html", "host.html", "join.html", "play.html", "screen.html", "not_found.html"):
        assert pages[page] == {"type": "text/html; charset=utf-8", "cache": "no-cache"}
    assert pages["static/app.css"] == {"type": "text/css; charset=utf-8", "cache": "public, max-age=300"}
    assert pages["static/endpoints.js"]["type"] == "text/javascript; charset=utf-8"
    assert pages["static/icon.svg"]["type"] == "image/svg+xml"
    assert any(key.startswith("types/quiz/") for key in pages)
    assert f"pages: {len(pages)} uploaded, 0 unchanged, 0 deleted" in runs.first.output
    assert runs.invalidations == 1


def test_a_dry_run_of_a_change_shows_it_and_leaves_the_stack_as_it_was(runs: Runs) -> None:
    result = runs.planned_change
    assert result.exit_code == 0, result.output
    # moto lists no resource for a change of parameters only; CloudFormation would list the subscription.
    assert f"{ENV.stack('monitoring')} (update" in result.output
    for stack in STACKS[:-1]:
        assert f"{stack}: no changes" in result.output
    assert runs.alarm_email_after_plan == ""
    assert runs.change_sets_after_plan == 0


def test_a_second_deploy_with_nothing_new_changes_nothing(runs: Runs) -> None:
    result = runs.second
    assert result.exit_code == 0, result.output
    for stack in STACKS:
        assert f"{stack}: no changes" in result.output
    assert "pages: no changes" in result.output
    assert "(already there)" in result.output
    assert "created" not in result.output and "updated" not in result.output
    assert runs.invalidations_after_second == runs.invalidations


def test_destroy_deletes_every_stack_newest_first(runs: Runs) -> None:
    result = runs.destroy
    assert result.exit_code == 0, result.output
    deleted = [line.split(":")[0] for line in result.output.splitlines() if line.endswith(": deleted")]
    assert deleted == STACKS[::-1]
    assert "pages: " in result.output and " deleted from s3://" in result.output
    assert "The table engagements-staging is kept" in result.output
    assert runs.stacks_after_destroy == []


def test_no_secret_is_printed(runs: Runs) -> None:
    for result in (runs.dry_run, runs.first, runs.planned_change, runs.second, runs.destroy):
        assert "testing" not in result.output  # the credentials


@pytest.mark.parametrize("kind", ORDER)
def test_every_template_fits_in_a_change_set_request(kind: str) -> None:
    assert len(template(kind).encode()) <= TEMPLATE_BODY_LIMIT


@pytest.mark.parametrize("kind", ORDER)
def test_a_plan_read_from_a_template_adds_each_of_its_resources(kind: str) -> None:
    plan = planned_from_template(kind, ENV.stack(kind), template(kind), ["engagements-staging"])
    resources = load(template(kind))["Resources"]
    assert [(c.action, c.resource, c.type) for c in plan.changes] == [
        ("Add", name, resource["Type"]) for name, resource in resources.items()
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--region", "eu west"], "--region must be a region name such as eu-west-1"),
        (["--endpoint-url", "localhost:4566"], "--endpoint-url must be a URL such as http://127.0.0.1:8000"),
        (["--admin-secret-parameter", "admin"], "--admin-secret-parameter must be an SSM parameter name"),
        (["--code-bucket", "My_Bucket"], "--code-bucket must be an S3 bucket name"),
        (["--alarm-email", "oncall"], "--alarm-email must be an email address"),
        (["--dry-run", "--destroy"], "--destroy and --dry-run do not go together"),
        (["--env", "qa"], "Invalid value for '--env'"),
    ],
)
def test_a_mistake_is_one_line_before_any_aws_call(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["deploy", "--env", "dev", *arguments], env=CREDENTIALS)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_without_a_region_it_says_so(moto_endpoint: str) -> None:
    result = CliRunner().invoke(
        main, ["deploy", "--env", "dev", "--endpoint-url", moto_endpoint, "--dry-run"], env=CREDENTIALS
    )
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no AWS region configured: pass --region or set AWS_REGION"
