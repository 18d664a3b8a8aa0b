"""The HTTP status of each refusal's code, so the appliance and the cloud answer a refusal alike."""

from __future__ import annotations

STATUS = {
    "invalid": 400,
    "bad_message": 400,
    "locked": 403,
    "kicked": 403,
    "finished": 403,
    "started": 403,
    "full": 403,
    "timeout": 408,
    "not_found": 404,
    "nickname_taken": 409,
    "too_large": 413,
    "unauthorized": 401,
    "not_json": 415,
    "rate_limited": 429,
    "method_not_allowed": 405,
    "internal": 500,
}
