"""What the gateway needs from CloudFormation templates: APIs and routes, functions, queues, tables.

Each template is read with `cfnlint.decode` (so the short `!Sub` forms parse) and treated as one stack: its
intrinsic functions are resolved to local values, and its exports feed the templates read after it. Only the
resource types a local run acts on are modelled; IAM roles, log groups, permissions and the like are
resolvable by `Ref`/`GetAtt` (so templates that mention them still load) but otherwise ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode.decode import decode_str

from .cors import Cors
from .intrinsics import PSEUDO_ACCOUNT, Resolver, TemplateError


@dataclass(frozen=True)
class Function:
    """An `AWS::Lambda::Function`: which Python callable to run, and with what environment."""

    name: str
    handler: str
    environment: dict[str, str]
    timeout: float = 3.0
    memory_mb: int = 128


@dataclass(frozen=True)
class Api:
    """An `AWS::ApiGatewayV2::Api` with its routes, each already followed through its integration."""

    api_id: str
    protocol: str  # "WEBSOCKET" or "HTTP"
    stage: str
    routes: dict[str, str]  # route key → function name
    route_selection: str | None = None
    cors: Cors | None = None


@dataclass(frozen=True)
class Queue:
    """An `AWS::SQS::Queue`, to be created on moto's SQS."""

    name: str
    url: str
    arn: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class EventSource:
    """An `AWS::Lambda::EventSourceMapping` from a queue to a function."""

    queue_arn: str
    function: str
    batch_size: int = 10
    report_item_failures: bool = False


@dataclass
class Wiring:
    """Everything found in the templates read so far."""

    functions: dict[str, Function] = field(default_factory=dict)
    apis: list[Api] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    event_sources: list[EventSource] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)
    api_ids: dict[str, str] = field(default_factory=dict)  # made-up API id → protocol, for execute-api URLs

    def api(self, protocol: str) -> Api | None:
        """The one API of that protocol (the gateway serves one WebSocket and one HTTP API)."""
        found = [api for api in self.apis if api.protocol == protocol]
        if len(found) > 1:
            raise TemplateError(f"{len(found)} {protocol} APIs: the local gateway serves one")
        return found[0] if found else None


@dataclass(frozen=True)
class Locale:
    """The local values intrinsic functions resolve to."""

    region: str
    sqs_endpoint: str  # queue URLs are moto's: {endpoint}/{account}/{name}
    api_urls: Mapping[str, str]  # protocol → the gateway's base URL for that API (http://127.0.0.1:PORT)


_EXECUTE_API = re.compile(r"(https|wss)://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")
_FUNCTION_IN_URI = re.compile(r"function:([A-Za-z0-9_-]+)")


def read(
    paths: Iterable[Path],
    locale: Locale,
    *,
    parameters: Mapping[str, str] = {},
    exports: Mapping[str, str] = {},
    stack_name: str | None = None,
) -> Wiring:
    """Reads the templates in order; each one's exports are importable by those after it.

    Each template is a stack named `local-<file stem>`, or `stack_name` when given (for a single template).
    """
    wiring = Wiring(exports=dict(exports))
    for path in paths:
        try:
            _Stack(path, locale, parameters, wiring, stack_name or f"local-{path.stem}").load()
        except TemplateError as exc:
            raise TemplateError(f"{path}: {exc}") from None
    return wiring


def decode(path: Path) -> dict[str, Any]:
    template, errors = decode_str(path.read_text())
    if errors or template is None:
        raise TemplateError(f"{path}: {'; '.join(str(e) for e in errors)}")
    return template


class _Stack:
    """One template read as one stack named after its file."""

    def __init__(
        self, path: Path, locale: Locale, parameters: Mapping[str, str], wiring: Wiring, name: str
    ) -> None:
        self.locale, self.wiring = locale, wiring
        self.template = decode(path)
        self.resources: dict[str, Any] = self.template.get("Resources") or {}
        self.name = name
        given = {k: v for k, v in parameters.items() if k in (self.template.get("Parameters") or {})}
        self.resolver = Resolver(
            self.template,
            stack_name=self.name,
            region=locale.region,
            parameters=given,
            exports=wiring.exports,
            refs=self.ref,
            attributes=self.attribute,
        )

    # -- Ref and GetAtt, by resource type ------------------------------------------------------------

    def _type(self, logical: str) -> str:
        return self.resources[logical]["Type"]

    def _prop(self, logical: str, name: str) -> Any:
        value = (self.resources[logical].get("Properties") or {}).get(name)
        return None if value is None else self.resolver.resolve(value)

    def _physical(self, logical: str, name_property: str | None) -> str:
        if name_property and (given := self._prop(logical, name_property)):
            return str(given)
        return f"{self.name}-{logical}"

    def ref(self, logical: str) -> str:
        kind = self._type(logical)
        if kind == "AWS::Lambda::Function":
            return self._physical(logical, "FunctionName")
        if kind == "AWS::Lambda::Alias":  # its ARN; locally every alias runs the function's one code
            function, alias = self._prop(logical, "FunctionName"), self._prop(logical, "Name")
            return f"arn:aws:lambda:{self.locale.region}:{PSEUDO_ACCOUNT}:function:{function}:{alias}"
        if kind == "AWS::SQS::Queue":
            return f"{self.locale.sqs_endpoint}/{PSEUDO_ACCOUNT}/{self._physical(logical, 'QueueName')}"
        if kind == "AWS::DynamoDB::Table":
            return self._physical(logical, "TableName")
        if kind == "AWS::ApiGatewayV2::Api":
            return self.api_id(logical)
        if kind == "AWS::ApiGatewayV2::Stage":
            return str(self._prop(logical, "StageName"))
        if kind == "AWS::SSM::Parameter":
            return self._physical(logical, "Name")
        return logical if kind.startswith("AWS::ApiGatewayV2::") else self._physical(logical, None)

    def api_id(self, logical: str) -> str:
        api_id = hashlib.sha256(f"{self.name}/{logical}".encode()).hexdigest()[:10]
        self.wiring.api_ids[api_id] = str(self._prop(logical, "ProtocolType"))
        return api_id

    def attribute(self, logical: str, name: str) -> str:
        kind, region = self._type(logical), self.locale.region
        if kind == "AWS::Lambda::Function" and name == "Arn":
            return f"arn:aws:lambda:{region}:{PSEUDO_ACCOUNT}:function:{self.ref(logical)}"
        if kind == "AWS::SQS::Queue":
            queue = self._physical(logical, "QueueName")
            return {"Arn": f"arn:aws:sqs:{region}:{PSEUDO_ACCOUNT}:{queue}", "QueueName": queue}.get(
                name, self.ref(logical)
            )
        if kind == "AWS::DynamoDB::Table" and name == "Arn":
            return f"arn:aws:dynamodb:{region}:{PSEUDO_ACCOUNT}:table/{self.ref(logical)}"
        if kind == "AWS::ApiGatewayV2::Api":
            if name == "ApiEndpoint":
                protocol = str(self._prop(logical, "ProtocolType"))
                url = self.locale.api_urls[protocol]
                return url.replace("http://", "ws://") if protocol == "WEBSOCKET" else url
            return self.api_id(logical)
        if kind == "AWS::IAM::Role" and name == "Arn":
            return f"arn:aws:iam::{PSEUDO_ACCOUNT}:role/{self.ref(logical)}"
        return f"arn:aws:local:{region}:{PSEUDO_ACCOUNT}:{logical}/{name}"

    def local_url(self, text: str) -> str:
        """An execute-api URL of one of our APIs, pointed at the gateway instead (the stage path stays)."""

        def replace(match: re.Match[str]) -> str:
            protocol = self.wiring.api_ids.get(match.group(2))
            if protocol is None:
                return match.group(0)
            url = self.locale.api_urls[protocol]
            return url.replace("http://", "ws://") if match.group(1) == "wss" else url

        return _EXECUTE_API.sub(replace, text)

    # -- the resources the gateway acts on --------------------------------------------------------

    def _active(self) -> dict[str, Any]:
        return {
            logical: resource
            for logical, resource in self.resources.items()
            if "Condition" not in resource or self.resolver.condition(resource["Condition"])
        }

    def load(self) -> None:
        active = self._active()
        for logical, resource in active.items():
            kind = resource["Type"]
            if kind == "AWS::Lambda::Function":
                self._function(logical)
            elif kind == "AWS::SQS::Queue":
                self._queue(logical)
            elif kind == "AWS::DynamoDB::Table":
                self._table(logical)
            elif kind == "AWS::Lambda::EventSourceMapping":
                self._event_source(logical)
            elif kind.startswith("AWS::Serverless::"):
                raise TemplateError(f"{logical} is a SAM resource; the gateway reads plain CloudFormation")
        for logical, resource in active.items():
            if resource["Type"] == "AWS::ApiGatewayV2::Api":
                self.wiring.apis.append(self._api(logical, active))
        for output in (self.template.get("Outputs") or {}).values():
            if "Export" in output:
                name = self.resolver.resolve(output["Export"]["Name"])
                self.wiring.exports[str(name)] = self.local_url(str(self.resolver.resolve(output["Value"])))

    def _function(self, logical: str) -> None:
        handler = self._prop(logical, "Handler")
        if not handler:
            raise TemplateError(f"function {logical} has no Handler")
        variables = (self._prop(logical, "Environment") or {}).get("Variables") or {}
        name = self.ref(logical)
        self.wiring.functions[name] = Function(
            name=name,
            handler=str(handler),
            environment={k: self.local_url(str(v)) for k, v in variables.items()},
            timeout=float(self._prop(logical, "Timeout") or 3),
            memory_mb=int(self._prop(logical, "MemorySize") or 128),
        )

    def _queue(self, logical: str) -> None:
        properties = self.resolver.resolve(self.resources[logical].get("Properties") or {})
        wanted = (
            "DelaySeconds",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
        )
        attributes = {k: str(v) for k, v in properties.items() if k in wanted}
        if "RedrivePolicy" in properties:  # moto moves messages to the dead-letter queue as SQS does
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        self.wiring.queues.append(
            Queue(
                name=self._physical(logical, "QueueName"),
                url=self.ref(logical),
                arn=self.attribute(logical, "Arn"),
                attributes=attributes,
            )
        )

    def _table(self, logical: str) -> None:
        properties = self.resolver.resolve(self.resources[logical].get("Properties") or {})
        wanted = (
            "KeySchema",
            "AttributeDefinitions",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "BillingMode",
        )
        definition = {k: properties[k] for k in wanted if k in properties}
        definition["TableName"] = self.ref(logical)
        if "ProvisionedThroughput" in properties:
            definition["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        self.wiring.tables.append(
            {"definition": definition, "ttl": properties.get("TimeToLiveSpecification")}
        )

    def _event_source(self, logical: str) -> None:
        source = str(self._prop(logical, "EventSourceArn"))
        if not source.startswith("arn:aws:sqs:"):
            raise TemplateError(f"{logical}: only SQS event sources run locally, not {source}")
        function = str(self._prop(logical, "FunctionName"))
        self.wiring.event_sources.append(
            EventSource(
                queue_arn=source,
                function=function.rsplit(":", 1)[-1] if function.startswith("arn:") else function,
                batch_size=int(self._prop(logical, "BatchSize") or 10),
                report_item_failures="ReportBatchItemFailures"
                in (self._prop(logical, "FunctionResponseTypes") or []),
            )
        )

    def _api(self, logical: str, active: Mapping[str, Any]) -> Api:
        api_id, protocol = self.api_id(logical), str(self._prop(logical, "ProtocolType"))
        stages = [
            str(self._prop(other, "StageName"))
            for other, resource in active.items()
            if resource["Type"] == "AWS::ApiGatewayV2::Stage" and self._prop(other, "ApiId") == api_id
        ]
        routes: dict[str, str] = {}
        for other, resource in active.items():
            if resource["Type"] == "AWS::ApiGatewayV2::Route" and self._prop(other, "ApiId") == api_id:
                target = str(self._prop(other, "Target") or "")
                if not target.startswith("integrations/"):
                    raise TemplateError(f"route {other} has no integrations/… Target")
                routes[str(self._prop(other, "RouteKey"))] = self._integration(
                    target.split("/", 1)[1], protocol
                )
        if not routes:
            raise TemplateError(f"API {logical} has no routes")
        selection = self._prop(logical, "RouteSelectionExpression")
        return Api(
            api_id=api_id,
            protocol=protocol,
            stage=stages[0] if stages else "$default",
            routes=routes,
            route_selection=str(selection) if selection else None,
            cors=Cors.from_properties(self._prop(logical, "CorsConfiguration")),
        )

    def _integration(self, logical: str, protocol: str) -> str:
        if logical not in self.resources or self._type(logical) != "AWS::ApiGatewayV2::Integration":
            raise TemplateError(f"no integration {logical}")
        if self._prop(logical, "IntegrationType") != "AWS_PROXY":
            raise TemplateError(f"integration {logical}: only AWS_PROXY (Lambda proxy) runs locally")
        if protocol == "HTTP" and str(self._prop(logical, "PayloadFormatVersion")) != "2.0":
            raise TemplateError(f"integration {logical}: only payload format 2.0 runs locally")
        match = _FUNCTION_IN_URI.search(str(self._prop(logical, "IntegrationUri")))
        if match is None or match.group(1) not in self.wiring.functions:
            raise TemplateError(f"integration {logical} names no function of the templates")
        return match.group(1)
