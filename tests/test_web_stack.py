"""deploy/web.yaml: cfn-lint finds nothing, and the stack does what the pages need of their host
(docs/cloud.md, "The same pages"): the CloudFront Function maps every page's address to its file, as the
appliance's router does (run in Node here, as CloudFront's JavaScript runtime would), the response
headers policy sends `Endpoints.security_headers` with the stacks' two API origins, a missing file is
`not_found.html` with a 404, and only this distribution can read the private bucket, over TLS.

Offline: moto has no CloudFront, so none of this can be deployed here (tests/test_deploy_command.py
deploys the stack with a stand-in distribution). The policy rules are in tests/test_guard_rules.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.guard import DEPLOY, LINT_REGIONS, load
from web.pages import NOT_FOUND, PAGES, Endpoints

TEMPLATE = DEPLOY / "web.yaml"
WEB = load(TEMPLATE)
RESOURCES = WEB["Resources"]
NODE = shutil.which("node")


def test_cfn_lint_finds_nothing() -> None:
    """Errors, warnings and informational checks, as for the other stacks."""
    matches = lint(TEMPLATE.read_text(), config=ManualArgs(include_checks=["I"], regions=LINT_REGIONS))
    assert [str(match) for match in matches] == []


def route(paths: list[str]) -> list[str]:
    """The URI CloudFront fetches from S3 for each viewer request, by the template's function code."""
    code = RESOURCES["Router"]["Properties"]["FunctionCode"]
    script = code + (
        "\nconst paths = JSON.parse(process.argv[1]);"
        "\nconsole.log(JSON.stringify(paths.map((uri) => handler({request: {uri: uri}}).uri)));"
    )
    found = subprocess.run(
        [NODE, "-e", script, json.dumps(paths)], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(found.stdout)


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the CloudFront Function")
def test_every_page_address_is_served_its_file_as_the_appliance_router_does() -> None:
    addresses = [page.path.replace("{game_id}", "g1a2b3").replace("{code}", "ABC123") for page in PAGES]
    assert route(addresses) == [f"/{page.template}" for page in PAGES]


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the CloudFront Function")
def test_files_and_unknown_addresses_pass_through_to_the_bucket() -> None:
    others = ["/static/app.css", "/types/quiz/quiz.js", "/host.html", "/nowhere", "/play/g1/extra", "/j/"]
    assert route(others) == others


def test_a_missing_file_is_the_not_found_page_with_a_404() -> None:
    config = RESOURCES["Distribution"]["Properties"]["DistributionConfig"]
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert set(errors) == {403, 404}  # S3 answers 403 for a key it does not have when it cannot list
    for error in errors.values():
        assert error["ResponseCode"] == 404 and error["ResponsePagePath"] == f"/{NOT_FOUND}"


def substitute(value: dict[str, Any], api: str, websocket: str) -> str:
    """The policy's Content-Security-Policy with the stacks' two URLs (their exports) put in."""
    text, variables = value["Fn::Sub"]
    assert variables["Api"] == {"Fn::ImportValue": {"Fn::Sub": "${HttpStack}-HttpApiUrl"}}
    split = variables["Socket"]["Fn::Join"][1]
    assert split[0] == "wss://" and split[1]["Fn::Select"][0] == 2
    assert split[1]["Fn::Select"][1]["Fn::Split"][1] == {
        "Fn::ImportValue": {"Fn::Sub": "${RealtimeStack}-WebSocketUrl"}
    }
    host = websocket.split("/")[2]  # what Fn::Select 2 of Fn::Split "/" gives
    return text.replace("${Api}", api).replace("${Socket}", f"wss://{host}")


def test_the_headers_policy_sends_the_pages_security_headers_with_the_stacks_origins() -> None:
    api = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
    websocket = "wss://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/prod"
    expected = Endpoints(api=api, socket=f"{websocket}?game={{game}}").security_headers
    config = RESOURCES["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    csp = config["ContentSecurityPolicy"]
    assert substitute(csp["ContentSecurityPolicy"], api, websocket) == expected["Content-Security-Policy"]
    assert expected["X-Content-Type-Options"] == "nosniff" and config["ContentTypeOptions"]["Override"]
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == expected["Referrer-Policy"]
    assert all(header["Override"] for header in config.values())
    behaviour = RESOURCES["Distribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeaders"}
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Ref": "Router"}}
    ]


def test_only_this_distribution_reads_the_bucket_and_only_over_tls() -> None:
    bucket = RESOURCES["PagesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    statements = RESOURCES["PagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    source = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
    for statement in allowed:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": source}}}
    assert {s["Action"] for s in allowed} == {"s3:GetObject", "s3:ListBucket"}
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Action"] == "s3:*"
    (origin,) = RESOURCES["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Ref": "OriginAccessControl"}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_the_outputs_are_what_engagements_deploy_reads() -> None:
    outputs = WEB["Outputs"]
    assert set(outputs) == {"SiteUrl", "BucketName", "DistributionId"}
    assert outputs["SiteUrl"]["Value"] == {"Fn::Sub": "https://${Distribution.DomainName}"}
    assert WEB["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]
