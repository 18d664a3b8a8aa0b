"""Makes moto's executed change sets behave like CloudFormation's, for `engagements deploy`'s tests.

moto 5.2 creates and describes change sets well enough (its "no changes" answer included), but executing
one skips what its `create_stack`/`update_stack` do: a stack created by a CREATE change set gets no
outputs, does not see other stacks' exports (`Fn::ImportValue` fails) and publishes none of its own; an
update leaves the account's exports at their old values. `install()` replaces
`CloudFormationBackend.execute_change_set` in this process (the suite's moto server runs in a thread of
it) with one that goes through the same steps as `create_stack` and `update_stack`.

moto's CloudFormation has no CloudFront types either: it skips them, and the web stack's outputs, which
read the distribution's domain name, fail. It skips `AWS::Lambda::Alias`, so the permissions that name
the `live` aliases fail, and `!GetAtt <version>.Version` resolves to nothing. It skips
`AWS::ApiGatewayV2::Api`, so the outputs naming an API (its URLs, the ids the monitoring stack imports)
are missing. It skips `AWS::CloudWatch::Alarm`, whose ARNs the monitoring stack's dashboard reads.
`install()` also gives it `StandInDistribution`, `StandInAlias`, `StandInApi` and `StandInAlarm` (below)
and makes a Lambda version answer `.Version`. The other CloudFront and API Gateway resources (routes,
integrations, stages) stay skipped, as do CodeDeploy's.
`uninstall()` puts moto's own back.
"""

from __future__ import annotations

import contextlib
from typing import Any

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaVersion, lambda_backends
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudfront.models import cloudfront_backends

_ORIGINAL = CloudFormationBackend.execute_change_set
_ORIGINAL_MODELS = parsing.get_model_map


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set: Any = self.change_sets.get(change_set_name) or next(
        (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
    )
    if change_set is None:
        raise ValidationError(stack_name)
    stack = self.stacks[change_set.stack_id]
    if change_set.change_set_type == "CREATE":
        stack.template = change_set.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.parameters = change_set.parameters
        stack.cross_stack_resources = self.exports
        stack.resource_map = stack._create_resource_map()
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.create_resources()
        stack.output_map = stack._create_output_map()
        stack.status = "CREATE_COMPLETE"
    else:
        stack.update(change_set.template, parameters=change_set.parameters)
    for name in [
        name for name, export in self.exports.items() if export.exporting_stack_id == stack.stack_id
    ]:
        del self.exports[name]
    self._validate_export_uniqueness(stack)
    for export in stack.exports:
        self.exports[export.name] = export
    change_set.execution_status = "EXECUTE_COMPLETE"


class StandIn:
    """What moto's CloudFormation asks of every resource model: the stand-ins below say only their type,
    the property that names them (if any) and the attributes `Fn::GetAtt` may read."""

    TYPE = ""
    NAME_PROPERTY = ""
    ATTRIBUTES: tuple[str, ...] = ()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def is_created(self) -> bool:
        return True


class StandInDistribution(StandIn):
    """`AWS::CloudFront::Distribution` for moto's CloudFormation, which has no CloudFront types: creates a
    distribution in moto's own CloudFront backend with the template's origins and default behaviour, so
    that the web stack's outputs (`DomainName`, the id) resolve and an invalidation finds it. Nothing else
    of the template's configuration (function, headers policy, error pages) is kept: tests/test_web_stack.py
    checks those in the template."""

    TYPE = "AWS::CloudFront::Distribution"
    ATTRIBUTES = ("DomainName", "Id")

    def __init__(self, distribution: Any) -> None:
        self.distribution = distribution

    @property
    def physical_resource_id(self) -> str:
        return self.distribution.distribution_id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.distribution.domain_name if attribute_name == "DomainName" else self.physical_resource_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> StandInDistribution:
        config = cloudformation_json["Properties"]["DistributionConfig"]
        origins = [
            {"Id": o["Id"], "DomainName": o["DomainName"], "S3OriginConfig": {"OriginAccessIdentity": ""}}
            for o in config["Origins"]
        ]
        behaviour = config["DefaultCacheBehavior"]
        api_config = {
            "CallerReference": resource_name,
            "Comment": config.get("Comment", ""),
            "Enabled": config["Enabled"],
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {
                "TargetOriginId": behaviour["TargetOriginId"],
                "ViewerProtocolPolicy": behaviour["ViewerProtocolPolicy"],
            },
        }
        distribution, _, _ = cloudfront_backends[account_id]["aws"].create_distribution(api_config, [])
        return cls(distribution)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: StandInDistribution,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> StandInDistribution:
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        cloudfront_backends[account_id]["aws"].delete_distribution(self.physical_resource_id, if_match=True)


class StandInAlias(StandIn):
    """`AWS::Lambda::Alias` for moto's CloudFormation: a real alias in moto's Lambda backend, on the version
    the template names; its `Ref` is the alias' ARN, as in CloudFormation. Its UpdatePolicy (CodeDeploy's
    gradual shift) is not played: an update points the alias at the new version at once."""

    TYPE = "AWS::Lambda::Alias"

    def __init__(self, alias: Any, account_id: str, region_name: str) -> None:
        self.alias = alias
        self.account_id, self.region_name = account_id, region_name

    @property
    def physical_resource_id(self) -> str:
        return self.alias.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> StandInAlias:
        return cls._put("create_alias", cloudformation_json, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: StandInAlias,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> StandInAlias:
        return cls._put("update_alias", cloudformation_json, account_id, region_name)

    @classmethod
    def _put(
        cls, call: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> StandInAlias:
        """moto's `create_alias` or `update_alias`, which take the same arguments, from the template."""
        props = cloudformation_json["Properties"]
        alias = getattr(lambda_backends[account_id][region_name], call)(
            props["Name"],
            props["FunctionName"],
            str(props["FunctionVersion"]),
            props.get("Description", ""),
            None,
        )
        return cls(alias, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        function = self.alias.arn.rsplit(":", 1)[0]
        with contextlib.suppress(UnknownFunctionException):  # gone with its function, which may go first
            lambda_backends[account_id][region_name].delete_alias(self.alias.name, function)


class StandInApi(StandIn):
    """`AWS::ApiGatewayV2::Api` for moto's CloudFormation: an API in moto's API Gateway v2 backend (no
    routes, no data plane), so that `Ref` gives a real id for the stacks' URLs and exports."""

    TYPE = "AWS::ApiGatewayV2::Api"

    def __init__(self, api: Any) -> None:
        self.api = api

    @property
    def physical_resource_id(self) -> str:
        return self.api.api_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> StandInApi:
        props = cloudformation_json["Properties"]
        api = apigatewayv2_backends[account_id][region_name].create_api(
            api_key_selection_expression="",
            cors_configuration="",
            description=props.get("Description", ""),
            disable_schema_validation="",
            disable_execute_api_endpoint="",
            name=props["Name"],
            protocol_type=props["ProtocolType"],
            route_selection_expression=props.get("RouteSelectionExpression", ""),
            tags={},
            version="",
        )
        return cls(api)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: StandInApi,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> StandInApi:
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        apigatewayv2_backends[account_id][region_name].delete_api(self.api.api_id)


class StandInAlarm(StandIn):
    """`AWS::CloudWatch::Alarm` for moto's CloudFormation: a name and an ARN, nothing created (moto's
    alarms take no metric math from here); enough for the dashboard that names the alarms."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, account_id: str, region_name: str) -> None:
        self.name = name
        self.arn = f"arn:aws:cloudwatch:{region_name}:{account_id}:alarm:{name}"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> StandInAlarm:
        return cls(resource_name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: StandInAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> StandInAlarm:
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Nothing was created."""


def _version(self: LambdaVersion, attribute_name: str) -> str:
    if attribute_name != "Version":
        raise NotImplementedError(attribute_name)
    return str(self.version)


def _models() -> dict[str, Any]:
    return {
        **_ORIGINAL_MODELS(),
        StandInDistribution.cloudformation_type(): StandInDistribution,
        StandInAlias.cloudformation_type(): StandInAlias,
        StandInApi.cloudformation_type(): StandInApi,
        StandInAlarm.cloudformation_type(): StandInAlarm,
    }


def install() -> None:
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
    parsing.get_model_map = _models  # type: ignore[assignment]
    LambdaVersion.get_cfn_attribute = _version  # type: ignore[method-assign]


def uninstall() -> None:
    CloudFormationBackend.execute_change_set = _ORIGINAL  # type: ignore[method-assign]
    parsing.get_model_map = _ORIGINAL_MODELS
    del LambdaVersion.get_cfn_attribute  # back to CloudFormationModel's
