"""`engagements deploy`: the cloud of one environment from this checkout, in one command (`make deploy`).

It builds the Lambda package (deploy/package.py) and uploads it under a key named after its hash, then
brings each stack up to date in order (base → realtime → http → web → monitoring) through a change set it
shows first; renders the pages with the stacks' endpoints, uploads them to the web stack's bucket and
invalidates CloudFront; and prints where everything is. `--dry-run` shows every stack's plan and changes
nothing; `--destroy` deletes the stacks in reverse order.

The pages' site and the APIs need each other's address (the APIs allow the site's origin, the site's
Content-Security-Policy allows the APIs'). On the first deploy the site does not exist yet when the APIs
are made: they allow no origin (`stacks.NO_SITE_YET`) until the web stack exists, and are then updated
with its address in the same run.

Like `engagements sync`, every mistake is one line on standard error and a non-zero exit. Nothing secret
is printed: the admin secret stays in SSM (only its parameter's name is passed), and the credentials are
boto3's own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from deploy import changesets, site
from deploy.stacks import ENVIRONMENTS, IAM, NEEDS, NO_SITE_YET, ORDER, Environment, template
from sync.cli import OneLineErrors, OptionError, check_endpoint_url, check_region
from sync.show import shown

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "artifacts" / "cloud-lambda.zip"
# The templates' own patterns (CodeBucket, AlarmEmail), checked before any AWS call.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
URLS = (  # what the operator opens, from which stack's outputs
    ("Pages", "web", "SiteUrl"),
    ("HTTP API", "http", "HttpApiUrl"),
    ("WebSocket", "realtime", "WebSocketUrl"),
    ("Dashboard", "monitoring", "DashboardUrl"),
)


@dataclasses.dataclass(frozen=True)
class Aws:
    """The clients of one account and region (every service on `endpoint_url` when given: moto)."""

    session: boto3.Session
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    @property
    def region(self) -> str:
        if not self.session.region_name:
            raise NoRegionError()
        return self.session.region_name


def _secret_parameter(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not (value.startswith("/") and all(c.isalnum() or c in "_./-" for c in value)):
        raise OptionError(
            "--admin-secret-parameter must be an SSM parameter name such as /engagements/prod/admin-secret, "
            f"not {shown(repr(value))}"
        )
    return value or None


def _code_bucket(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not BUCKET.fullmatch(value):
        raise OptionError(
            f"--code-bucket must be an S3 bucket name such as my-code-bucket, not {shown(repr(value))}"
        )
    return value or None


def _alarm_email(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value and not EMAIL.fullmatch(value):
        raise OptionError(f"--alarm-email must be an email address, not {shown(repr(value))}")
    return value


@click.command(cls=OneLineErrors)
@click.option(
    "--env",
    "environment",
    type=click.Choice(ENVIRONMENTS),
    required=True,
    help="The environment to deploy: its five stacks.",
)
@click.option("--region", callback=check_region, help="AWS region (else AWS_REGION or the profile's).")
@click.option("--profile", help="AWS profile for the credentials (else AWS_PROFILE or the default chain).")
@click.option(
    "--endpoint-url",
    callback=check_endpoint_url,
    help="One AWS-compatible endpoint for every service (moto server, for tests); AWS itself when left out.",
)
@click.option(
    "--arch",
    type=click.Choice(["arm64", "x86_64"]),
    default="arm64",
    show_default=True,
    help="The functions' CPU; the package is built for it.",
)
@click.option(
    "--package",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Lambda zip already built for --arch (make cloud-package); else it is built now, from PyPI.",
)
@click.option(
    "--code-bucket",
    callback=_code_bucket,
    help="Where the code goes; else engagements-code-<account>-<region>, made private if missing.",
)
@click.option(
    "--admin-secret-parameter",
    callback=_secret_parameter,
    help="The SSM SecureString parameter holding the admin secret; else /engagements/<env>/admin-secret.",
)
@click.option(
    "--alarm-email",
    default="",
    callback=_alarm_email,
    help="Subscribes this address to the monitoring stack's alarms.",
)
@click.option(
    "--dry-run", is_flag=True, help="Show every stack's change set, then delete them; change nothing."
)
@click.option(
    "--destroy", is_flag=True, help="Delete the environment's stacks, newest first (the table is kept)."
)
@click.option("--yes", is_flag=True, help="Do not ask before --destroy deletes.")
def deploy(
    environment: str,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    arch: str,
    package: Path | None,
    code_bucket: str | None,
    admin_secret_parameter: str | None,
    alarm_email: str,
    dry_run: bool,
    destroy: bool,
    yes: bool,
) -> None:
    """Deploy (or --destroy) the cloud stacks, the code and the pages of one environment."""
    if destroy and dry_run:
        raise OptionError("--destroy and --dry-run do not go together")
    try:
        aws = Aws(boto3.Session(profile_name=profile, region_name=region), endpoint_url)
        account = aws.client("sts").get_caller_identity()["Account"]
        if destroy:
            if not yes:
                click.confirm(
                    f"Delete the {environment} stacks in {aws.region} (account {account})?", abort=True
                )
            tear_down(aws, Environment(environment, "", ""), click.echo)
            return
        bucket = code_bucket or f"engagements-code-{account}-{aws.region}"
        click.echo(f"Deploying Engagements {environment} to {aws.region} (account {account}).")
        zip_path = package or _build(arch)
        key = f"cloud-lambda/{hashlib.sha256(zip_path.read_bytes()).hexdigest()[:16]}.zip"
        if dry_run:
            click.echo(f"code: would upload {zip_path} to s3://{bucket}/{key}")
        else:
            click.echo(f"code: s3://{bucket}/{key} ({upload_code(aws, bucket, key, zip_path)})")
        env = Environment(environment, bucket, key, arch, admin_secret_parameter or "", alarm_email)
        run(aws, env, dry_run, click.echo)
    except NoRegionError:
        raise click.ClickException("no AWS region configured: pass --region or set AWS_REGION") from None
    except NoCredentialsError:
        raise click.ClickException("no AWS credentials found: pass --profile or set AWS_PROFILE") from None
    except ProfileNotFound as e:
        raise click.ClickException(shown(str(e))) from None
    except EndpointConnectionError:
        raise click.ClickException(f"cannot reach AWS at {endpoint_url or 'its endpoints'}") from None
    except ClientError as e:
        error = e.response.get("Error", {})
        raise click.ClickException(
            shown(f"{e.operation_name}: {error.get('Code')}: {error.get('Message')}")
        ) from None
    except (changesets.DeployError, BotoCoreError) as e:
        raise click.ClickException(shown(" ".join(str(e).split()))) from None


def _build(arch: str) -> Path:
    if not (ROOT / "pyproject.toml").is_file():
        raise changesets.DeployError(
            "building the Lambda package needs the repository's checkout: pass --package"
        )
    from deploy.package import build  # pip and PyPI: only when no --package is given

    click.echo(f"code: building {PACKAGE} for {arch} (make cloud-package)")
    return build(PACKAGE, arch)


def upload_code(aws: Aws, bucket: str, key: str, package: Path) -> str:
    """Puts the package at `key` unless it is there already (the key is its hash); what was done."""
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise
        _create_code_bucket(s3, bucket, aws.region)
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return "already there"
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
            raise
    s3.upload_file(str(package), bucket, key)
    return "uploaded"


def _create_code_bucket(s3: Any, bucket: str, region: str) -> None:
    """A private, encrypted bucket the stacks read the code from (deploy/README.md's first step)."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def run(aws: Aws, env: Environment, dry_run: bool, echo: Callable[[str], None]) -> None:
    """Every stack in order through its change set, then the pages; with `dry_run`, the plans only."""
    cloudformation = aws.client("cloudformation")
    stacks = {kind: changesets.describe(cloudformation, env.stack(kind)) for kind in ORDER}
    exists = {
        kind: stack is not None and stack["StackStatus"] != "REVIEW_IN_PROGRESS"
        for kind, stack in stacks.items()
    }
    env = dataclasses.replace(env, site_url=changesets.outputs(stacks["web"]).get("SiteUrl", NO_SITE_YET))
    tags = {"Project": "engagements", "Environment": env.name}
    if dry_run:
        plans = []
        try:
            for kind in ORDER:
                missing = [env.stack(k) for k in NEEDS[kind] if not exists[k]]
                if missing:
                    plan = changesets.planned_from_template(kind, env.stack(kind), template(kind), missing)
                else:
                    plan = changesets.plan(
                        cloudformation,
                        kind,
                        env.stack(kind),
                        template(kind),
                        env.parameters(kind),
                        tags,
                        kind in IAM,
                    )
                plans.append(plan)
                echo(changesets.table(plan))
        finally:
            for plan in plans:
                changesets.discard(cloudformation, plan)
        echo("Dry run: nothing was changed (the change sets were deleted).")
        return

    def bring_up(kind: str) -> None:
        plan = changesets.plan(
            cloudformation, kind, env.stack(kind), template(kind), env.parameters(kind), tags, kind in IAM
        )
        echo(changesets.table(plan))
        if not plan.empty:
            stacks[kind] = changesets.execute(cloudformation, plan)
            echo(f"{plan.stack}: {'created' if plan.creating else 'updated'}")

    for kind in ORDER:
        bring_up(kind)
        if kind == "web":
            site_url = changesets.outputs(stacks["web"])["SiteUrl"]
            if site_url != env.site_url:  # the first deploy: the APIs learn the pages' origin now
                env = dataclasses.replace(env, site_url=site_url)
                echo(f"The pages' site is {site_url}: the APIs now allow it.")
                bring_up("realtime")
                bring_up("http")
    publish_pages(aws, {kind: changesets.outputs(stack) for kind, stack in stacks.items()}, echo)
    for label, kind, output in URLS:
        value = changesets.outputs(stacks[kind]).get(output)
        if value:
            echo(f"{label + ':':<11} {value}")


def publish_pages(aws: Aws, outputs: dict[str, dict[str, str]], echo: Callable[[str], None]) -> None:
    """The pages, rendered for this environment's APIs, into the web stack's bucket."""
    endpoints = site.endpoints(outputs["http"]["HttpApiUrl"], outputs["realtime"]["WebSocketUrl"])
    upload = site.publish(aws.client("s3"), outputs["web"]["BucketName"], endpoints)
    if not upload.changed:
        echo("pages: no changes")
        return
    echo(f"pages: {upload.uploaded} uploaded, {upload.unchanged} unchanged, {upload.deleted} deleted")
    invalidation = site.invalidate(aws.client("cloudfront"), outputs["web"]["DistributionId"])
    echo(f"CloudFront: invalidation {invalidation} of /*")


def tear_down(aws: Aws, env: Environment, echo: Callable[[str], None]) -> None:
    """Deletes the stacks newest first, the web bucket's pages before their stack. The table's stack goes
    but the table stays (DeletionPolicy Retain), and the code bucket stays (the account's, per region)."""
    cloudformation = aws.client("cloudformation")
    for kind in reversed(ORDER):
        stack = changesets.describe(cloudformation, env.stack(kind))
        if stack is None:
            echo(f"{env.stack(kind)}: not there")
            continue
        if kind == "web" and (bucket := changesets.outputs(stack).get("BucketName")):
            echo(f"pages: {site.empty(aws.client('s3'), bucket)} deleted from s3://{bucket}")
        changesets.delete(cloudformation, env.stack(kind))
        echo(f"{env.stack(kind)}: deleted")
        if kind == "base":
            table = changesets.outputs(stack).get("TableName", env.stack("base"))
            echo(f"The table {table} is kept (DeletionPolicy Retain): delete it yourself if you mean to.")
