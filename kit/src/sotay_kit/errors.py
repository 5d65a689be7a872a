"""RFC 9457 problem+json errors.

A shallow hierarchy: raise a :class:`Problem` subclass from any layer and the handlers turn
it into ``application/problem+json``. Anything a client sends that fails validation is a 4xx;
an unexpected exception is logged with its trace id and answered with a bare 500 that leaks
nothing.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_BASE = "https://sotay.vn/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """An error with an HTTP status, a stable type slug and a user-facing Vietnamese title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Yêu cầu không hợp lệ"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Yêu cầu không hợp lệ"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Chưa xác thực"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Không có quyền"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Không tìm thấy"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Xung đột dữ liệu"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Dữ liệu gửi lên quá lớn"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Định dạng không được hỗ trợ"


class Unprocessable(Problem):
    status, slug, title = 422, "validation-error", "Dữ liệu không hợp lệ"


class TooManyRequests(Problem):
    status, slug, title = 429, "too-many-requests", "Quá nhiều yêu cầu"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


_STATUS_TITLES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Yêu cầu không hợp lệ"),
    401: ("unauthorized", "Chưa xác thực"),
    403: ("forbidden", "Không có quyền"),
    404: ("not-found", "Không tìm thấy"),
    405: ("method-not-allowed", "Phương thức không được hỗ trợ"),
    406: ("not-acceptable", "Không đáp ứng được định dạng yêu cầu"),
    409: ("conflict", "Xung đột dữ liệu"),
    413: ("payload-too-large", "Dữ liệu gửi lên quá lớn"),
    415: ("unsupported-media-type", "Định dạng không được hỗ trợ"),
    422: ("validation-error", "Dữ liệu không hợp lệ"),
    429: ("too-many-requests", "Quá nhiều yêu cầu"),
    500: ("internal-error", "Lỗi hệ thống"),
    503: ("unavailable", "Dịch vụ tạm thời không sẵn sàng"),
}


class ProblemDetails(BaseModel):
    """The ``application/problem+json`` body of every error answer (RFC 9457), for OpenAPI.

    Besides the standard members, kit sends ``errors`` on validation problems and ``checks`` on a
    refused readiness probe; a service's problem may add members of its own (``extra``)."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="What was wrong, item by item: {loc, type, message} for a request's fields; "
        "a service's own problem may list other items (a member import: {row, column, reason})",
    )
    checks: dict[str, bool] | None = None


PROBLEM_SCHEMA_REF = "#/components/schemas/ProblemDetails"


def problem_responses(*problems: type[Problem] | int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the problems a route can answer: one entry per status, its
    description the Vietnamese titles of the problems with that status, its body problem+json."""
    titles: dict[int, list[str]] = {}
    for problem in problems:
        if isinstance(problem, int):
            status, title = problem, _STATUS_TITLES.get(problem, ("error", "Lỗi"))[1]
        else:
            status, title = problem.status, problem.title
        seen = titles.setdefault(status, [])
        if title not in seen:
            seen.append(title)
    return {
        status: {
            "description": "; ".join(names),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
        }
        for status, names in sorted(titles.items())
    }


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_nfc(v) for v in value]
    return value


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    default_slug, default_title = _STATUS_TITLES.get(status, ("error", "Lỗi"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or default_slug),
        "title": title or default_title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    content = json.dumps(_nfc(body), ensure_ascii=False, default=str).encode()
    return Response(
        content, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=dict(headers or {})
    )


# Vietnamese messages for the pydantic error types clients meet most; others keep pydantic's text.
_VALIDATION_MESSAGES = {
    "missing": "Thiếu trường bắt buộc",
    "json_invalid": "Nội dung JSON không hợp lệ",
    "string_too_long": "Chuỗi quá dài",
    "string_too_short": "Chuỗi quá ngắn",
    "too_long": "Quá nhiều phần tử",
    "too_short": "Quá ít phần tử",
    "uuid_parsing": "Mã định danh (UUID) không hợp lệ",
    "int_parsing": "Phải là số nguyên",
    "greater_than_equal": "Giá trị quá nhỏ",
    "less_than_equal": "Giá trị quá lớn",
    "timezone_aware": "Thời gian phải có múi giờ",
    "datetime_parsing": "Thời gian không hợp lệ",
    "date_parsing": "Ngày không hợp lệ",
    "literal_error": "Giá trị không thuộc danh sách cho phép",
    "enum": "Giá trị không thuộc danh sách cho phép",
    "extra_forbidden": "Trường không được phép",
    "model_attributes_type": "Phải là một đối tượng JSON",
    "dict_type": "Phải là một đối tượng JSON",
    "list_type": "Phải là một danh sách",
    "string_type": "Phải là chuỗi ký tự",
    # A lone surrogate in a JSON string ("\ud800"): not text at all.
    "string_unicode": "Chuỗi chứa ký tự không hợp lệ",
}


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Turn pydantic errors into a client-safe list: where, what kind, message (no input echo)."""
    out = []
    for err in errors:
        kind = str(err.get("type", "value_error"))
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "type": kind,
                "message": _VALIDATION_MESSAGES.get(kind, str(err.get("msg", "Không hợp lệ"))),
            }
        )
    return out


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        extensions=exc.extensions,
        headers=exc.headers,
    )


async def _handle_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        422,
        detail="Một hoặc nhiều trường không hợp lệ",
        instance=request.url.path,
        extensions={"errors": validation_errors(exc.errors())},
    )


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
    return problem_response(
        exc.status_code, detail=detail, instance=request.url.path, headers=exc.headers
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    # Unexpected exceptions are answered by ObservabilityMiddleware (it knows the request id).
