"""Input text rules shared by the documents API models and query parameters: control
characters (NUL above all: Postgres text cannot hold it) are refused with a 422 instead of
failing in the database."""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_ALLOWED = "\t\n\r"


def no_control(value: str | None) -> str | None:
    if value is not None and any(
        unicodedata.category(c) == "Cc" and c not in _ALLOWED for c in value
    ):
        raise PydanticCustomError("control_characters", "Chuỗi chứa ký tự điều khiển")
    return value


# For query parameters: ``Annotated[str | None, Query(...), NoControl]``.
NoControl = AfterValidator(no_control)

__all__ = ["NoControl", "no_control"]
