"""Makes moto's executed change sets behave like CloudFormation's, for `engagements deploy`'s tests.

moto 5.2 creates and describes change sets well enough (its "no changes" answer included), but executing
one skips what its `create_stack`/`update_stack` do: a stack created by a CREATE change set gets no
outputs, does not see other stacks' exports (`Fn::ImportValue` fails) and publishes none of its own; an
update leaves the account's exports at their old values. `install()` replaces
`CloudFormationBackend.execute_change_set` in this process (the suite's moto server runs in a thread of
it) with one that goes through the same steps as `create_stack` and `update_stack`.

moto's CloudFormation has no CloudFront types either: it skips them, and the web stack's outputs, which
read the distribution's domain name, fail. `install()` also gives it `StandInDistribution` (below).
The other CloudFront resources stay skipped (a `Ref` to one resolves to its logical id).
`uninstall()` puts moto's own back.
"""

from __future__ import annotations

from typing import Any

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


class StandInDistribution:
    """`AWS::CloudFront::Distribution` for moto's CloudFormation, which has no CloudFront types: creates a
    distribution in moto's own CloudFront backend with the template's origins and default behaviour, so
    that the web stack's outputs (`DomainName`, the id) resolve and an invalidation finds it. Nothing else
    of the template's configuration (function, headers policy, error pages) is kept: tests/test_web_stack.py
    checks those in the template."""

    def __init__(self, distribution: Any) -> None:
        self.distribution = distribution

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::Distribution"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("DomainName", "Id")

    @property
    def physical_resource_id(self) -> str:
        return self.distribution.distribution_id

    def is_created(self) -> bool:
        return True

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


def _models() -> dict[str, Any]:
    return {**_ORIGINAL_MODELS(), StandInDistribution.cloudformation_type(): StandInDistribution}


def install() -> None:
    CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
    parsing.get_model_map = _models  # type: ignore[assignment]


def uninstall() -> None:
    CloudFormationBackend.execute_change_set = _ORIGINAL  # type: ignore[method-assign]
    parsing.get_model_map = _ORIGINAL_MODELS
