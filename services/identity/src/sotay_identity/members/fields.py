"""Rules for member fields, shared by the JSON API and the CSV import (one truth for both).

Every normaliser takes what a person typed and returns the stored form, or raises
``ValueError`` with a Vietnamese message that is safe to show (it never echoes the input back).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from sotay_kit.clock import LOCAL_TZ, utc_now
from sotay_kit.text import fold as fold  # the search form of names (members.search_name)
from sotay_kit.text import has_control, has_invisible

_SPACES = re.compile(r"\s+")


def _unreadable(text: str) -> bool:
    """A control character or one that does not show (two names must not look the same)."""
    return has_control(text) or has_invisible(text)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def clean_text(value: str) -> str:
    """NFC, whitespace runs collapsed to one space, trimmed."""
    return _SPACES.sub(" ", nfc(value)).strip()


def title(value: str, *, max_length: int = 300) -> str:
    text = clean_text(value)
    if not text:
        raise ValueError("Không được để trống")
    if len(text) > max_length:
        raise ValueError(f"Dài quá {max_length} ký tự")
    if _unreadable(text):
        raise ValueError("Chứa ký tự điều khiển không hợp lệ")
    return text


def org_code(value: str) -> str:
    text = clean_text(value)
    if not text or len(text) > 64:
        raise ValueError("Mã tổ chức phải dài từ 1 đến 64 ký tự")
    if _unreadable(text):
        raise ValueError("Mã tổ chức chứa ký tự điều khiển không hợp lệ")
    return text


_CARD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z./-]{2,31}$")


def card_number(value: str) -> str:
    text = value.strip()
    if not _CARD.fullmatch(text):
        raise ValueError(
            "Số thẻ đảng viên phải dài 3–32 ký tự, chỉ gồm chữ số, chữ cái Latinh và . / -"
        )
    return text


_NAME_PUNCTUATION = frozenset(" .'-")


def full_name(value: str) -> str:
    text = clean_text(value)
    if not text:
        raise ValueError("Họ và tên không được để trống")
    if len(text) > 200:
        raise ValueError("Họ và tên dài quá 200 ký tự")
    if not all(c.isalpha() or c in _NAME_PUNCTUATION for c in text) or not any(
        c.isalpha() for c in text
    ):
        raise ValueError("Họ và tên chỉ được chứa chữ cái, khoảng trắng và các dấu . ' -")
    return text


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"^0[35789][0-9]{8}$")


def phone(value: str) -> str:
    """A Vietnamese mobile number, stored as ``0XXXXXXXXX`` (10 digits).

    Accepts spaces, dots, dashes and parentheses, and the +84 / 84 / 0084 country prefix.
    """
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise ValueError(
            "Số điện thoại phải là số di động Việt Nam gồm 10 chữ số, bắt đầu bằng 03, 05, 07, "
            "08 hoặc 09 (có thể viết +84)"
        )
    return digits


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def email(value: str) -> str:
    text = value.strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ValueError("Địa chỉ email không hợp lệ")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def citizen_id(value: str) -> str:
    digits = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise ValueError("Số CCCD phải gồm đúng 12 chữ số")
    return digits


def mask_citizen_id(value: str) -> str:
    return "*" * (len(value) - 4) + value[-4:]


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MIN_DATE = date(1900, 1, 1)


def parse_date(value: str) -> date:
    """``dd/mm/yyyy`` (also ``d/m/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``) or ISO ``yyyy-mm-dd``."""
    text = value.strip()
    if m := _ISO.fullmatch(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _DMY.fullmatch(text):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError("Ngày phải có dạng dd/mm/yyyy hoặc yyyy-mm-dd")
    try:
        return date(y, mo, d)
    except ValueError:
        raise ValueError("Ngày không tồn tại") from None


def past_date(value: date) -> date:
    if value < MIN_DATE:
        raise ValueError("Ngày quá xa trong quá khứ")
    # The party's day is Vietnam's: from 17:00 UTC it is already tomorrow there.
    if value > utc_now().astimezone(LOCAL_TZ).date():
        raise ValueError("Ngày không được ở tương lai")
    return value


_SEX = {
    "nam": "male",
    "male": "male",
    "m": "male",
    "nu": "female",
    "female": "female",
    "f": "female",
}


def sex(value: str) -> str:
    found = _SEX.get(fold(value))
    if found is None:
        raise ValueError("Giới tính phải là Nam hoặc Nữ")
    return found


_MEMBERSHIP = {
    "chinh thuc": "official",
    "official": "official",
    "du bi": "probationary",
    "probationary": "probationary",
}


def membership(value: str) -> str:
    found = _MEMBERSHIP.get(fold(value))
    if found is None:
        raise ValueError("Loại đảng viên phải là 'chính thức' hoặc 'dự bị'")
    return found


def date_order_problems(
    date_of_birth: date | None, admitted_on: date | None, official_on: date | None
) -> list[tuple[str, str]]:
    """Cross-field date rules: (field, reason) for each that fails."""
    problems: list[tuple[str, str]] = []
    if date_of_birth and admitted_on and admitted_on <= date_of_birth:
        problems.append(("admitted_on", "Ngày vào Đảng phải sau ngày sinh"))
    if admitted_on and official_on and official_on < admitted_on:
        problems.append(("official_on", "Ngày chính thức không được trước ngày vào Đảng"))
    if official_on and not admitted_on:
        problems.append(("admitted_on", "Có ngày chính thức thì phải có ngày vào Đảng"))
    return problems
