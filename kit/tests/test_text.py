"""Folding Vietnamese for search."""

from __future__ import annotations

import unicodedata

from sotay_kit.text import fold, nfc, search_text, search_words


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
