"""Folding Vietnamese for search; the control-character rule every input follows."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError
from sotay_kit.text import (
    MULTILINE,
    NoControl,
    NoControlMultiline,
    fold,
    has_control,
    has_invisible,
    nfc,
    search_text,
    search_words,
)


def test_fold_removes_diacritics_and_d_stroke() -> None:
    assert fold("Nguyễn Văn Đức") == "nguyen van duc"
    assert fold("  NGHỊ   QUYẾT\tsố 21 ") == "nghi quyet so 21"
    assert fold("đảng ĐOÀN") == "dang doan"


def test_fold_is_the_same_for_composed_and_decomposed_input() -> None:
    composed = "Biên bản sinh hoạt chi bộ"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert fold(composed) == fold(decomposed) == "bien ban sinh hoat chi bo"


def test_nfc_normalises_and_strips() -> None:
    assert nfc(unicodedata.normalize("NFD", " Đảng viên ")) == "Đảng viên"


def test_search_words_split_document_numbers() -> None:
    assert search_words("Nghị quyết số 21-NQ/TW") == ["nghi", "quyet", "so", "21", "nq", "tw"]
    assert search_words("—…!") == []
    assert search_text("Kết luận", None, "", "số 01-KL/TW") == "ket luan so 01 kl tw"


def test_control_characters_are_found_unless_allowed() -> None:
    assert has_control("a\x00b")
    assert has_control("a\x7fb")
    assert has_control("a\x85b")  # C1 (NEL)
    assert has_control("dòng 1\ndòng 2")
    assert not has_control("dòng 1\ndòng 2\tcột", allowed="\t\n")
    assert has_control("dòng 1\r\ndòng 2", allowed="\t\n")
    assert not has_control("Nguyễn Văn Đức — chi bộ 3")


@pytest.mark.parametrize(
    "code_point",
    [0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xFDD0, 0xFDEF, 0xFFFE, 0xFFFF, 0x1FFFE, 0x10FFFF],
)
def test_surrogates_and_noncharacters_count_as_control_whatever_is_allowed(
    code_point: int,
) -> None:
    # XML (the DOCX/XLSX exports) cannot hold them and a lone surrogate cannot be encoded as
    # UTF-8 for Postgres: a text holding one is refused like one holding NUL.
    text = f"góp ý {chr(code_point)} hết"
    assert has_control(text)
    assert has_control(text, allowed=MULTILINE)


def test_characters_next_to_the_noncharacters_are_accepted() -> None:
    for code_point in (0xD7FF, 0xE000, 0xFDCF, 0xFDF0, 0xFFFD, 0x1FFFD, 0x20000, 0x1F600):
        assert not has_control(f"góp ý {chr(code_point)}"), hex(code_point)


def test_invisible_characters_are_found() -> None:
    assert has_invisible("Nguy\u200bễn")  # zero-width space
    assert has_invisible("abc\u202edef")  # right-to-left override
    assert not has_invisible("Nguyễn Văn Đức")


class _Input(BaseModel):
    name: Annotated[str, NoControl]
    note: Annotated[str | None, NoControlMultiline] = None


def test_models_refuse_control_characters_with_a_vietnamese_message() -> None:
    assert _Input(name="Chi bộ 3", note="Dòng 1\r\nDòng 2\t!").note == "Dòng 1\r\nDòng 2\t!"
    for bad in (
        {"name": "a\nb"},
        {"name": "a", "note": "NUL\x00"},
        {"name": "a\ufffe"},
        {"name": "a", "note": "dòng 1\n\ud800"},
    ):
        with pytest.raises(ValidationError) as caught:
            _Input.model_validate(bad)
        error = caught.value.errors()[0]
        assert error["type"] == "control_characters"
        assert error["msg"] == "Chuỗi chứa ký tự điều khiển"
