"""deploy/monitoring.yaml: the alarms and the dashboard watch what the other stacks export and what the
functions' embedded metrics really carry (names, namespace, dimensions), and every alarm tells someone.

No AWS here: these read the templates (cfn-lint, the policy rules of tests/test_stacks.py, and the checks
below). moto's CloudFormation creates no alarms or dashboards, so the stack is not deployed in a test.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cfnlint.api import ManualArgs, lint

from cloud.metrics import NAMESPACE, dimension_sets
from engagements.telemetry.metrics import CATALOGUE
from tests.guard import DEPLOY, LINT_REGIONS, load

MONITORING = DEPLOY / "monitoring.yaml"
STACKS = {"BaseStack": "base.yaml", "RealtimeStack": "realtime.yaml", "HttpStack": "http.yaml"}
EMITTED = {m.name: m for m in CATALOGUE if m.cloud}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def metrics_of(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads: its own, or each of its metric math's."""
    if "MetricName" in alarm:
        return [{k: alarm[k] for k in ("Namespace", "MetricName", "Dimensions") if k in alarm}]
    return [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]


def imports(value: Any) -> list[str]:
    """The `${Stack}-Name` of every Fn::ImportValue in `value`."""
    found = []
    if isinstance(value, dict):
        if "Fn::ImportValue" in value:
            found.append(value["Fn::ImportValue"]["Fn::Sub"])
        for inner in value.values():
            found += imports(inner)
    elif isinstance(value, list):
        for inner in value:
            found += imports(inner)
    return found


def test_cfn_lint_finds_nothing() -> None:
    matches = lint(MONITORING.read_text(), config=ManualArgs(include_checks=["I"], regions=LINT_REGIONS))
    assert [str(match) for match in matches] == []


def test_everything_it_imports_is_exported_by_the_stack_it_names() -> None:
    template = load(MONITORING)
    wanted = imports(template["Resources"])
    assert len(set(wanted)) >= 10
    for name in wanted:
        stack, export = re.fullmatch(r"\$\{(\w+)\}-(\w+)", name).groups()  # type: ignore[union-attr]
        outputs = load(DEPLOY / STACKS[stack])["Outputs"]
        assert outputs[export]["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{export}"}, name


def test_every_function_of_the_stacks_is_watched_for_errors_and_throttles() -> None:
    """Each function's name is exported by its stack and read by both alarms (a new function must be)."""
    functions = set()
    for stack, file in STACKS.items():
        template = load(DEPLOY / file)
        outputs = template.get("Outputs", {})
        for name, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function":
                (export,) = [k for k, o in outputs.items() if o["Value"] == {"Ref": name} and "Export" in o]
                functions.add(f"${{{stack}}}-{export}")
    assert len(functions) == 6
    watched = alarms(load(MONITORING))
    for metric_name, alarm in (("Errors", "FunctionErrorsAlarm"), ("Throttles", "FunctionThrottlesAlarm")):
        metrics = [m for m in metrics_of(watched[alarm]) if m["MetricName"] == metric_name]
        assert {m["Namespace"] for m in metrics} == {"AWS/Lambda"}
        assert set(imports(metrics)) == functions, alarm
        assert watched[alarm]["Metrics"][0]["Expression"].startswith("SUM(")


def test_the_alarms_on_the_games_figures_ask_for_what_the_functions_emit() -> None:
    for name, alarm in alarms(load(MONITORING)).items():
        for metric in metrics_of(alarm):
            if metric["Namespace"] != NAMESPACE:
                continue
            emitted = EMITTED[metric["MetricName"]]
            dimensions = [d["Name"] for d in metric["Dimensions"]]
            assert dimensions in dimension_sets(emitted), (name, dimensions)


def test_every_alarm_tells_the_topic_when_it_goes_off_and_when_it_clears() -> None:
    for name, alarm in alarms(load(MONITORING)).items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", f"{name}: a quiet night is no alarm"


def test_the_dashboard_is_json_and_shows_the_functions_figures_by_their_emitted_names() -> None:
    body, variables = load(MONITORING)["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    resolved = re.sub(r"\$\{[^}]+\}", "1", body)  # as CloudFormation would, with stand-ins
    widgets = json.loads(resolved)["widgets"]
    assert len(widgets) >= 12
    shown = set(re.findall(r'"(engagements_\w+)"', body)) | set(re.findall(r'\\"(engagements_\w+)\\"', body))
    assert shown and shown <= set(EMITTED), shown - set(EMITTED)
    assert {
        "engagements_commands",
        "engagements_ack_latency_seconds",
        "engagements_store_write_seconds",
    } <= shown
    alarmed = set(re.findall(r"\$\{(\w+)\.Arn\}", body))
    assert alarmed == set(alarms(load(MONITORING))), "the alarm widget shows every alarm"
    placeholders = set(re.findall(r"\$\{(\w+)\}", body)) - {
        "Environment",
        "RealtimeStack",
        "HttpStack",
        "AckLatencySeconds",
    }
    assert placeholders - {"AWS"} <= set(variables)
