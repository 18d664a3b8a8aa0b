"""CloudFormation's intrinsic functions, resolved to the values a local run needs.

The gateway reads the real templates, so `!Ref`, `!GetAtt`, `!Sub`, `!ImportValue` and friends must turn into
concrete local names (a table on moto, a queue URL on moto, a function name the gateway knows). What a
resource's `Ref` or attribute means is the caller's business (`refs` and `attributes`): this module only
walks the template's values, evaluates conditions and does the string work.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

PSEUDO_ACCOUNT = "123456789012"  # moto's default account, so ARNs and queue URLs agree with it


class NoValue:
    """`!Ref AWS::NoValue`: the property or list item disappears."""


NO_VALUE = NoValue()


class TemplateError(ValueError):
    """The template asks for something a local run cannot resolve; the message says what and where."""


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves intrinsic functions in one template's values.

    `refs(logical_id)` gives a resource's `Ref` value, `attributes(logical_id, name)` its `Fn::GetAtt`; both
    may call back into the resolver for the resource's own properties.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str,
        parameters: Mapping[str, str],
        exports: Mapping[str, str],
        refs: Callable[[str], str],
        attributes: Callable[[str, str], str],
    ) -> None:
        self.template = template
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": PSEUDO_ACCOUNT,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{PSEUDO_ACCOUNT}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        self.parameters = self._parameter_values(parameters)
        self.exports = exports
        self.refs = refs
        self.attributes = attributes
        self._conditions: dict[str, bool] = {}

    def _parameter_values(self, given: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in given:
                values[name] = given[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default: give it a value")
            if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                values[name] = [v.strip() for v in str(values[name]).split(",")]
        return values

    def condition(self, name: str) -> bool:
        """The named condition of the template's Conditions section."""
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"no condition named {name}")
            self._conditions[name] = bool(self._condition_value(conditions[name]))
        return self._conditions[name]

    def _condition_value(self, value: Any) -> bool:
        if isinstance(value, Mapping) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if fn == "Fn::Not":
                return not self._condition_value(arg[0])
            if fn == "Fn::And":
                return all(self._condition_value(v) for v in arg)
            if fn == "Fn::Or":
                return any(self._condition_value(v) for v in arg)
            if fn == "Condition":
                return self.condition(arg)
        raise TemplateError(f"not a condition: {value!r}")

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its local result."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                    return self._function(key, arg)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        return value

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self.ref(arg)
        if key == "Condition":
            return self.condition(arg)
        handler = getattr(self, "_fn_" + key[len("Fn::") :].lower(), None)
        if handler is None:
            raise TemplateError(f"{key} is not supported by the local gateway")
        return handler(arg)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.template.get("Resources") or {}):
            return self.refs(name)
        raise TemplateError(f"Ref to unknown name {name}")

    def _fn_getatt(self, arg: Any) -> str:
        logical, _, attribute = arg.partition(".") if isinstance(arg, str) else (arg[0], "", arg[1])
        if logical not in (self.template.get("Resources") or {}):
            raise TemplateError(f"Fn::GetAtt of unknown resource {logical}")
        return self.attributes(logical, self.resolve(attribute))

    def _fn_sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in (self.template.get("Resources") or {}):
                return str(self._fn_getatt(name))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _fn_importvalue(self, arg: Any) -> str:
        name = self.resolve(arg)
        if name not in self.exports:
            known = ", ".join(sorted(self.exports)) or "none"
            raise TemplateError(f"Fn::ImportValue {name}: no such export (exports known: {known})")
        return self.exports[name]

    def _fn_join(self, arg: Any) -> str:
        separator, items = arg
        return str(separator).join(str(v) for v in self.resolve(items))

    def _fn_select(self, arg: Any) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    def _fn_split(self, arg: Any) -> list[str]:
        separator, text = arg
        return str(self.resolve(text)).split(separator)

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_findinmap(self, arg: Any) -> Any:
        mapping, top, second = (self.resolve(v) for v in arg[:3])
        return self.resolve(self.template["Mappings"][mapping][top][second])

    def _fn_getazs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self.pseudo["AWS::Region"]
        return [f"{region}a", f"{region}b", f"{region}c"]

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()
