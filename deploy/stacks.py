"""The five stacks of one environment: their order, names, templates and the parameters each is given.

Names are fixed per environment (`engagements-<env>` for the table, `engagements-<kind>-<env>` for the
rest), so the later stacks find the earlier ones' exports by name, as deploy/README.md describes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
ORDER = ("base", "realtime", "http", "web", "monitoring")
ENVIRONMENTS = ("dev", "staging", "prod")
NEEDS = {  # the stacks whose exports each imports
    "base": (),
    "realtime": ("base",),
    "http": ("base", "realtime"),
    "web": ("realtime", "http"),
    "monitoring": ("base", "realtime", "http"),
}
IAM = {"realtime", "http"}  # the stacks that create roles (CAPABILITY_IAM)
# Until the web stack exists the pages have no origin. `.invalid` is reserved (RFC 2606): no page can
# have this one, so no browser may call the APIs until `engagements deploy` gives them the real site.
NO_SITE_YET = "https://pages-not-deployed-yet.invalid"


@dataclass(frozen=True)
class Environment:
    """What the parameters of an environment's stacks come from."""

    name: str
    code_bucket: str
    code_key: str
    architecture: str = "arm64"
    admin_secret_parameter: str = ""  # "" for /engagements/<env>/admin-secret
    alarm_email: str = ""
    site_url: str = NO_SITE_YET  # the web stack's SiteUrl once it exists

    def stack(self, kind: str) -> str:
        return f"engagements-{self.name}" if kind == "base" else f"engagements-{kind}-{self.name}"

    @property
    def secret_parameter(self) -> str:
        return self.admin_secret_parameter or f"/engagements/{self.name}/admin-secret"

    def parameters(self, kind: str) -> dict[str, str]:
        """The parameters of stack `kind`: the rest keep their templates' defaults."""
        if kind == "base":
            return {"Environment": self.name}
        if kind in ("realtime", "http"):
            functions = {
                "Environment": self.name,
                "BaseStack": self.stack("base"),
                "CodeBucket": self.code_bucket,
                "CodeKey": self.code_key,
                "Architecture": self.architecture,
                "AdminSecretParameter": self.secret_parameter,
                "AllowedOrigins": self.site_url,
                "PublicUrl": "" if self.site_url == NO_SITE_YET else self.site_url,
            }
            if kind == "http":
                functions["RealtimeStack"] = self.stack("realtime")
            return {**functions, "Release": release(template(kind), functions)}
        if kind == "web":
            return {
                "Environment": self.name,
                "RealtimeStack": self.stack("realtime"),
                "HttpStack": self.stack("http"),
            }
        return {
            "Environment": self.name,
            "BaseStack": self.stack("base"),
            "RealtimeStack": self.stack("realtime"),
            "HttpStack": self.stack("http"),
            "AlarmEmail": self.alarm_email,
        }


def template(kind: str) -> str:
    return (DEPLOY / f"{kind}.yaml").read_text()


def release(template_text: str, parameters: dict[str, str]) -> str:
    """Names the functions as this template and these parameters make them: a new value publishes new
    versions for the `live` aliases (a version keeps the configuration it was published with)."""
    return hashlib.sha256(json.dumps([template_text, parameters], sort_keys=True).encode()).hexdigest()[:16]
