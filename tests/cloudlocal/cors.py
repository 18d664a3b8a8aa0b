"""The HTTP API's CORS, as API Gateway applies an API's `CorsConfiguration` in front of the integration.

API Gateway answers preflight requests itself (no route needed) and, for other requests from an allowed
origin, sets the CORS headers on the integration's response, replacing any the integration sent. Pages served
from another origin (the browser tests) then meet the same rules here as on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any] | None) -> Cors | None:
        """From a resolved `CorsConfiguration`, None when the API has none."""
        if not properties:
            return None

        def values(name: str) -> tuple[str, ...]:
            return tuple(str(v) for v in properties.get(name) or ())

        max_age = properties.get("MaxAge")
        return cls(
            allow_origins=values("AllowOrigins"),
            allow_methods=tuple(m.upper() for m in values("AllowMethods")),
            allow_headers=tuple(h.lower() for h in values("AllowHeaders")),
            expose_headers=values("ExposeHeaders"),
            allow_credentials=bool(properties.get("AllowCredentials")),
            max_age=int(max_age) if max_age is not None else None,
        )

    def _origin(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in self.allow_origins:
            return "*"
        return origin if origin in self.allow_origins else None

    @staticmethod
    def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
        return method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers

    def preflight(self, headers: Mapping[str, str]) -> CIMultiDict[str]:
        """The headers of API Gateway's own 204 answer to a preflight request."""
        reply: CIMultiDict[str] = CIMultiDict()
        allowed = self._origin(headers.get("Origin"))
        if allowed is None:
            return reply
        requested = headers.get("Access-Control-Request-Headers", "")
        reply["Access-Control-Allow-Origin"] = allowed
        reply["Access-Control-Allow-Methods"] = ",".join(self.allow_methods) or "*"
        if "*" in self.allow_headers:
            reply["Access-Control-Allow-Headers"] = requested
        elif self.allow_headers:
            reply["Access-Control-Allow-Headers"] = ",".join(self.allow_headers)
        if self.max_age is not None:
            reply["Access-Control-Max-Age"] = str(self.max_age)
        if self.allow_credentials:
            reply["Access-Control-Allow-Credentials"] = "true"
        return reply

    def apply(self, request_headers: Mapping[str, str], response_headers: CIMultiDict[str]) -> None:
        """Replaces the integration's CORS headers with the API's, for an allowed origin."""
        for name in list(response_headers):
            if name.lower().startswith("access-control-"):
                response_headers.popall(name, None)
        allowed = self._origin(request_headers.get("Origin"))
        if allowed is None:
            return
        response_headers["Access-Control-Allow-Origin"] = allowed
        if self.expose_headers:
            response_headers["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        if self.allow_credentials:
            response_headers["Access-Control-Allow-Credentials"] = "true"
