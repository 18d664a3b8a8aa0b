"""Each policy rule in deploy/rules/ refuses a template that breaks it: a copy of deploy/realtime.yaml, or of
deploy/web.yaml for the S3 and CloudFront rules (each passes every rule), with one thing made wrong. A rule
that cannot fail would prove nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.guard import DEPLOY, RULE_FILES, evaluate, load, rule_name

Template = dict[str, Any]
GOOD = load(DEPLOY / "realtime.yaml")
WEB = load(DEPLOY / "web.yaml")
WEB_RULES = {
    "s3_no_public_bucket",
    "s3_tls_only",
    "cloudfront_origin_access_control",
    "cloudfront_security_headers",
}
RULES = {rule_name(path.read_text()): path for path in RULE_FILES}


def statement(template: Template, role: str, sid: str) -> dict[str, Any]:
    (found,) = (
        s
        for policy in template["Resources"][role]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Sid") == sid
    )
    return found


def props(template: Template, name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def set_resource(role: str, sid: str, resource: Any) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        statement(template, role, sid)["Resource"] = resource

    return change


def add_statement(role: str, new: dict[str, Any]) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        props(template, role)["Policies"][0]["PolicyDocument"]["Statement"].append(new)

    return change


def add_policy(new: dict[str, Any]) -> Callable[[Template], None]:
    """A standalone AWS::IAM::Policy: rules read those as well as roles' inline policies."""

    def change(template: Template) -> None:
        template["Resources"]["Extra"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "extra",
                "Roles": [{"Ref": "DefaultRole"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [new]},
            },
        }

    return change


def set_prop(resource: str, key: str, value: Any) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        props(template, resource)[key] = value

    return change


def drop_prop(resource: str, key: str) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        del props(template, resource)[key]

    return change


def drop_tag(resource: str, key: str) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        tags = props(template, resource)["Tags"]
        if isinstance(tags, dict):
            del tags[key]
        else:
            props(template, resource)["Tags"] = [tag for tag in tags if tag["Key"] != key]

    return change


BLOCKED = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}
ANY_API = "arn:aws:execute-api:eu-west-1:123456789012:*/prod/POST/@connections/*"
ONE_API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/POST/@connections/*"
ANY_STAGE = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"

# (rule, what is wrong, change): each change breaks exactly its rule.
BREAKS = [
    ("iam_manage_connections_scoped", "on *", set_resource("DefaultRole", "Connections", "*")),
    ("iam_manage_connections_scoped", "on any API", set_resource("FanoutRole", "Connections", ANY_API)),
    (
        "iam_manage_connections_scoped",
        "execute-api:* on * in a standalone policy",
        add_policy({"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}),
    ),
    (
        "iam_manage_connections_scoped",
        "any stage, by Fn::Sub",
        set_resource(
            "DeadlineRole",
            "Connections",
            {"Fn::Sub": ANY_STAGE},
        ),
    ),
    ("iam_dynamodb_never_on_any_table", "on *", set_resource("ConnectRole", "Table", "*")),
    (
        "iam_dynamodb_never_on_any_table",
        "on every table",
        set_resource("DefaultRole", "Table", ["arn:aws:dynamodb:eu-west-1:123456789012:table/*"]),
    ),
    (
        "iam_dynamodb_never_on_any_table",
        "on every table, by Fn::Sub",
        set_resource(
            "DefaultRole",
            "Table",
            {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"},
        ),
    ),
    (
        "iam_wildcard_resources_only_for_xray",
        "s3 on *",
        add_statement("FanoutRole", {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
    ),
    (
        "lambda_tracing_active",
        "PassThrough",
        set_prop("DeadlineFunction", "TracingConfig", {"Mode": "PassThrough"}),
    ),
    ("lambda_tracing_active", "no TracingConfig", drop_prop("ConnectFunction", "TracingConfig")),
    ("lambda_log_group_with_retention", "no retention", drop_prop("DefaultLogGroup", "RetentionInDays")),
    ("lambda_log_group_with_retention", "Lambda's own group", drop_prop("FanoutFunction", "LoggingConfig")),
    (
        "lambda_log_group_with_retention",
        "a group that is not a log group",
        set_prop("ConnectFunction", "LoggingConfig", {"LogGroup": {"Ref": "DeadlineQueue"}}),
    ),
    (
        "lambda_timeout_within_api_gateway",
        "30 s behind API Gateway",
        set_prop("DefaultFunction", "Timeout", 30),
    ),
    ("lambda_timeout_within_api_gateway", "15 min on $connect", set_prop("ConnectFunction", "Timeout", 900)),
    (
        "lambda_timeout_within_api_gateway",
        "a permission naming its function by ARN",
        set_prop("DisconnectPermission", "FunctionName", {"Fn::GetAtt": ["DisconnectFunction", "Arn"]}),
    ),
    (
        "lambda_no_plain_admin_secret",
        "ADMIN_SECRET in the environment",
        lambda t: props(t, "DefaultFunction")["Environment"]["Variables"].update(
            ADMIN_SECRET="hunter2-hunter2"
        ),
    ),
    (
        "tags_project_and_environment",
        "a log group without Environment",
        drop_tag("FanoutLogGroup", "Environment"),
    ),
    ("tags_project_and_environment", "a queue without Project", drop_tag("DeadlineQueue", "Project")),
    ("tags_project_and_environment", "the API without Project", drop_tag("WebSocketApi", "Project")),
    ("tags_project_and_environment", "a role without tags", drop_prop("DeadlineRole", "Tags")),
]

# Changes every rule must let through: what the good template could also have written.
ALLOWED = [
    ("a long fan-out is not behind API Gateway", set_prop("FanoutFunction", "Timeout", 300)),
    ("ManageConnections on one API by literal ARN", set_resource("FanoutRole", "Connections", ONE_API)),
    (
        "DynamoDB on one table by literal ARN",
        set_resource(
            "ConnectRole", "Table", "arn:aws:dynamodb:eu-west-1:123456789012:table/engagements-prod"
        ),
    ),
]


def policy_statements(template: Template) -> list[dict[str, Any]]:
    return props(template, "PagesBucketPolicy")["PolicyDocument"]["Statement"]


def drop_statement(sid: str) -> Callable[[Template], None]:
    def change(template: Template) -> None:
        props(template, "PagesBucketPolicy")["PolicyDocument"]["Statement"] = [
            s for s in policy_statements(template) if s.get("Sid") != sid
        ]

    return change


def distribution(template: Template) -> dict[str, Any]:
    return props(template, "Distribution")["DistributionConfig"]


def legacy_identity(template: Template) -> None:
    template["Resources"]["Identity"] = {
        "Type": "AWS::CloudFront::CloudFrontOriginAccessIdentity",
        "Properties": {"CloudFrontOriginAccessIdentityConfig": {"Comment": "legacy"}},
    }
    origin = distribution(template)["Origins"][0]
    del origin["OriginAccessControlId"]
    origin["S3OriginConfig"]["OriginAccessIdentity"] = {
        "Fn::Sub": "origin-access-identity/cloudfront/${Identity}"
    }


def headers(template: Template) -> dict[str, Any]:
    return props(template, "SecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


# The same, on a copy of deploy/web.yaml.
WEB_BREAKS = [
    (
        "s3_no_public_bucket",
        "no public access block",
        drop_prop("PagesBucket", "PublicAccessBlockConfiguration"),
    ),
    (
        "s3_no_public_bucket",
        "public policies allowed",
        set_prop("PagesBucket", "PublicAccessBlockConfiguration", {**BLOCKED, "BlockPublicPolicy": False}),
    ),
    ("s3_no_public_bucket", "a public-read ACL", set_prop("PagesBucket", "AccessControl", "PublicRead")),
    ("s3_tls_only", "no TLS-only statement", drop_statement("TlsOnly")),
    (
        "s3_tls_only",
        "denies TLS instead",
        lambda t: policy_statements(t)[0]["Condition"]["Bool"].update({"aws:SecureTransport": "true"}),
    ),
    ("s3_tls_only", "no bucket policy", lambda t: t["Resources"].pop("PagesBucketPolicy")),
    (
        "cloudfront_origin_access_control",
        "an S3 origin without it",
        lambda t: distribution(t)["Origins"][0].pop("OriginAccessControlId"),
    ),
    ("cloudfront_origin_access_control", "a legacy origin access identity", legacy_identity),
    (
        "cloudfront_origin_access_control",
        "unsigned requests",
        lambda t: props(t, "OriginAccessControl")["OriginAccessControlConfig"].update(
            SigningBehavior="never"
        ),
    ),
    (
        "cloudfront_security_headers",
        "no response headers policy",
        lambda t: distribution(t)["DefaultCacheBehavior"].pop("ResponseHeadersPolicyId"),
    ),
    (
        "cloudfront_security_headers",
        "another behaviour without it",
        lambda t: distribution(t).update(
            CacheBehaviors=[
                {"PathPattern": "/static/*", "TargetOriginId": "pages", "ViewerProtocolPolicy": "https-only"}
            ]
        ),
    ),
    (
        "cloudfront_security_headers",
        "no Content-Security-Policy",
        lambda t: headers(t).pop("ContentSecurityPolicy"),
    ),
    (
        "cloudfront_security_headers",
        "a leaky referrer policy",
        lambda t: headers(t)["ReferrerPolicy"].update(ReferrerPolicy="unsafe-url"),
    ),
    ("tags_project_and_environment", "the distribution without Project", drop_tag("Distribution", "Project")),
]

WEB_ALLOWED = [
    (
        "an SSE-KMS bucket",
        set_prop(
            "PagesBucket",
            "BucketEncryption",
            {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                ]
            },
        ),
    ),
    (
        "a second behaviour with the policy",
        lambda t: distribution(t).update(
            CacheBehaviors=[
                {
                    "PathPattern": "/static/*",
                    "TargetOriginId": "pages",
                    "ViewerProtocolPolicy": "https-only",
                    "ResponseHeadersPolicyId": {"Ref": "SecurityHeaders"},
                }
            ]
        ),
    ),
]


def verdicts(template: Template) -> dict[str, str]:
    return {rule: evaluate(template, path).status for rule, path in RULES.items()}


def test_every_rule_has_a_template_that_breaks_it() -> None:
    assert {rule for rule, _, _ in BREAKS + WEB_BREAKS} == set(RULES)


def test_the_good_templates_pass_every_rule_that_applies() -> None:
    assert verdicts(GOOD) == {rule: "SKIP" if rule in WEB_RULES else "PASS" for rule in RULES}
    assert {rule for rule, status in verdicts(WEB).items() if status == "PASS"} == {
        *WEB_RULES,
        "tags_project_and_environment",
    }


@pytest.mark.parametrize(
    ("rule", "change"), [(r, c) for r, _, c in BREAKS], ids=[f"{r}: {w}" for r, w, _ in BREAKS]
)
def test_a_rule_refuses_a_template_that_breaks_it(rule: str, change: Callable[[Template], None]) -> None:
    template = copy.deepcopy(GOOD)
    change(template)
    results = verdicts(template)
    assert results[rule] == "FAIL"
    # Only that rule (a resource "*" is also a wildcard): the change is a fair example of what it guards.
    failed = {other for other, status in results.items() if status == "FAIL"}
    assert failed - {rule} <= {"iam_wildcard_resources_only_for_xray"}


@pytest.mark.parametrize(
    ("rule", "change"), [(r, c) for r, _, c in WEB_BREAKS], ids=[f"{r}: {w}" for r, w, _ in WEB_BREAKS]
)
def test_a_rule_refuses_a_web_template_that_breaks_it(rule: str, change: Callable[[Template], None]) -> None:
    template = copy.deepcopy(WEB)
    change(template)
    results = verdicts(template)
    assert results[rule] == "FAIL"
    assert {other for other, status in results.items() if status == "FAIL"} == {rule}


@pytest.mark.parametrize(
    ("good", "change"),
    [(GOOD, c) for _, c in ALLOWED] + [(WEB, c) for _, c in WEB_ALLOWED],
    ids=[w for w, _ in ALLOWED + WEB_ALLOWED],
)
def test_the_rules_let_a_sound_variation_through(good: Template, change: Callable[[Template], None]) -> None:
    template = copy.deepcopy(good)
    change(template)
    assert [rule for rule, status in verdicts(template).items() if status == "FAIL"] == []


def test_a_failure_says_why() -> None:
    template = copy.deepcopy(GOOD)
    set_prop("DefaultFunction", "Timeout", 30)(template)
    verdict = evaluate(template, RULES["lambda_timeout_within_api_gateway"])
    assert verdict.messages == (
        "a function behind API Gateway times out within its 29 s integration timeout",
    )
