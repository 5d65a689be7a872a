"""What the demo month says: the documents' text (real Vietnamese paragraphs), the news, the
meetings' agendas. Synthetic: the province, its numbers and its people do not exist."""

from __future__ import annotations

import io
from dataclasses import dataclass

import docx


@dataclass(frozen=True)
class DemoDocument:
    key: str
    kind: str
    number: str
    title: str
    issuer: str
    summary: str
    tags: str
    # Where it is published: the whole province, or the demo member's district.
    scope: str  # "province" | "district"
    deadline_days: int
    sections: tuple[tuple[str, tuple[str, ...]], ...]


DOCUMENTS: tuple[DemoDocument, ...] = (
    DemoDocument(
        key="resolution",
        kind="resolution",
        number="12-NQ/TU",
        title="Nghị quyết về nâng cao chất lượng sinh hoạt chi bộ giai đoạn 2026–2030",
        issuer="Ban Thường vụ Tỉnh ủy Thanh Sơn",
        summary="Mục tiêu, nhiệm vụ và giải pháp nâng cao chất lượng sinh hoạt chi bộ.",
        tags="sinh hoạt chi bộ,xây dựng Đảng",
        scope="province",
        deadline_days=21,
        sections=(
            (
                "I. Tình hình và nguyên nhân",
                (
                    "Những năm qua, các cấp ủy trong Đảng bộ tỉnh đã quan tâm lãnh đạo, chỉ đạo "
                    "việc nâng cao chất lượng sinh hoạt chi bộ; nhiều chi bộ duy trì nền nếp "
                    "sinh hoạt định kỳ, nội dung sinh hoạt có đổi mới, gắn với nhiệm vụ chính "
                    "trị của địa phương, cơ quan, đơn vị.",
                    "Tuy nhiên, chất lượng sinh hoạt ở một số chi bộ chưa cao; nội dung còn "
                    "chung chung, hình thức, nặng về thông báo; tính lãnh đạo, tính giáo dục, "
                    "tính chiến đấu có nơi còn hạn chế; tỷ lệ đảng viên dự sinh hoạt ở một số "
                    "chi bộ thôn, tổ dân phố chưa đạt yêu cầu.",
                ),
            ),
            (
                "II. Mục tiêu",
                (
                    "Đến năm 2030, 100% chi bộ duy trì sinh hoạt thường kỳ hằng tháng đúng quy "
                    "định; tỷ lệ đảng viên dự sinh hoạt đạt từ 95% trở lên; mỗi chi bộ tổ chức "
                    "ít nhất một buổi sinh hoạt chuyên đề mỗi quý.",
                    "Phấn đấu hằng năm có trên 80% chi bộ được đánh giá sinh hoạt có chất lượng "
                    "tốt, không có chi bộ sinh hoạt yếu kém.",
                ),
            ),
            (
                "III. Nhiệm vụ và giải pháp",
                (
                    "Một là, cấp ủy chuẩn bị chu đáo nội dung trước mỗi buổi sinh hoạt; tài liệu "
                    "sinh hoạt được gửi đến đảng viên trước ít nhất ba ngày qua ứng dụng Sổ tay "
                    "Đảng viên điện tử.",
                    "Hai là, đề cao vai trò của bí thư chi bộ trong điều hành sinh hoạt; khuyến "
                    "khích đảng viên phát biểu, đóng góp ý kiến thẳng thắn, xây dựng.",
                    "Ba là, thực hiện nghiêm việc điểm danh, ghi biên bản và báo cáo kết quả "
                    "sinh hoạt lên cấp ủy cấp trên đúng thời hạn.",
                ),
            ),
            (
                "IV. Tổ chức thực hiện",
                (
                    "Các huyện ủy, thị ủy, thành ủy và đảng ủy trực thuộc Tỉnh ủy tổ chức học "
                    "tập, quán triệt Nghị quyết đến toàn thể cán bộ, đảng viên; xây dựng kế "
                    "hoạch thực hiện phù hợp với tình hình của địa phương, đơn vị.",
                ),
            ),
        ),
    ),
    DemoDocument(
        key="directive",
        kind="directive",
        number="08-CT/TU",
        title="Chỉ thị về tăng cường công tác phòng, chống thiên tai mùa mưa bão năm 2026",
        issuer="Ban Thường vụ Tỉnh ủy Thanh Sơn",
        summary="Chủ động ứng phó thiên tai, bảo đảm an toàn tính mạng và tài sản của nhân dân.",
        tags="phòng chống thiên tai,an toàn",
        scope="district",
        deadline_days=10,
        sections=(
            (
                "Tình hình",
                (
                    "Năm 2026, dự báo thời tiết diễn biến phức tạp, bão và áp thấp nhiệt đới có "
                    "khả năng ảnh hưởng trực tiếp đến địa bàn tỉnh; nguy cơ lũ quét, sạt lở đất "
                    "ở các xã miền núi là rất cao.",
                ),
            ),
            (
                "Yêu cầu",
                (
                    "Các cấp ủy, chính quyền quán triệt phương châm bốn tại chỗ: chỉ huy tại "
                    "chỗ, lực lượng tại chỗ, phương tiện, vật tư tại chỗ và hậu cần tại chỗ.",
                    "Mỗi chi bộ thôn, bản, tổ dân phố rà soát danh sách hộ gia đình sống ở vùng "
                    "có nguy cơ sạt lở, phân công đảng viên phụ trách từng nhóm hộ, sẵn sàng "
                    "di dời khi có lệnh.",
                    "Đảng viên gương mẫu chấp hành và vận động nhân dân chấp hành nghiêm các "
                    "chỉ đạo của chính quyền trong mùa mưa bão.",
                ),
            ),
        ),
    ),
    DemoDocument(
        key="guidance",
        kind="guidance",
        number="05-HD/BTG",
        title="Hướng dẫn học tập, quán triệt Nghị quyết số 12-NQ/TU trong chi bộ",
        issuer="Ban Tuyên giáo Tỉnh ủy Thanh Sơn",
        summary="Nội dung, hình thức và thời gian học tập Nghị quyết số 12-NQ/TU.",
        tags="học tập nghị quyết,tuyên giáo",
        scope="province",
        deadline_days=28,
        sections=(
            (
                "1. Đối tượng",
                (
                    "Toàn thể cán bộ, đảng viên trong Đảng bộ tỉnh; đảng viên cao tuổi, sức khỏe "
                    "yếu được học tập tại nhà với sự hỗ trợ của chi bộ.",
                ),
            ),
            (
                "2. Hình thức",
                (
                    "Đảng viên tự nghiên cứu văn bản trên ứng dụng Sổ tay Đảng viên điện tử; chi "
                    "bộ dành một phần thời gian của buổi sinh hoạt thường kỳ để trao đổi, thảo "
                    "luận và liên hệ với thực tiễn của chi bộ.",
                    "Sau khi học tập, mỗi đảng viên viết bản thu hoạch ngắn và đăng ký ít nhất "
                    "một việc làm cụ thể để thực hiện Nghị quyết.",
                ),
            ),
            (
                "3. Thời gian",
                (
                    "Việc học tập hoàn thành trong thời hạn ghi trên ứng dụng; chi bộ báo cáo "
                    "kết quả lên cấp ủy cấp trên sau buổi sinh hoạt gần nhất.",
                ),
            ),
        ),
    ),
)


def document_docx(doc: DemoDocument) -> bytes:
    """The document as a DOCX file: heading, number, title, then its sections' paragraphs."""
    out = docx.Document()
    out.add_paragraph(doc.issuer.upper())
    out.add_paragraph(f"Số {doc.number}")
    out.add_heading(doc.title, level=1)
    for heading, paragraphs in doc.sections:
        out.add_heading(heading, level=2)
        for text in paragraphs:
            out.add_paragraph(text)
    out.add_paragraph("T/M BAN THƯỜNG VỤ")
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class DemoNews:
    scope: str  # "province" | "district"
    title: str
    body: str


NEWS: tuple[DemoNews, ...] = (
    DemoNews(
        "province",
        "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 15",
        "Hội nghị đã thảo luận, thống nhất ban hành Nghị quyết số 12-NQ/TU về nâng cao chất "
        "lượng sinh hoạt chi bộ giai đoạn 2026–2030.\n\nCác đồng chí Tỉnh ủy viên đề nghị các "
        "cấp ủy sớm xây dựng kế hoạch học tập, quán triệt đến từng chi bộ.",
    ),
    DemoNews(
        "province",
        "Ra mắt ứng dụng Sổ tay Đảng viên điện tử",
        "Từ tháng này, đảng viên trong toàn tỉnh nhận lịch sinh hoạt, tài liệu học tập và "
        "thông báo của chi bộ trên ứng dụng.\n\nĐồng chí nào chưa kích hoạt tài khoản, đề "
        "nghị liên hệ bí thư chi bộ để nhận mã kích hoạt.",
    ),
    DemoNews(
        "district",
        "Huyện ủy tổ chức tập huấn nghiệp vụ cho bí thư chi bộ",
        "Trong hai ngày, hơn 200 đồng chí bí thư, phó bí thư chi bộ được hướng dẫn cách lên "
        "lịch sinh hoạt, điểm danh bằng mã QR và lập biên bản trên ứng dụng.",
    ),
)

AGENDA = (
    "Thông tin thời sự trong nước và của địa phương",
    "Kiểm điểm việc thực hiện nhiệm vụ tháng trước",
    "Học tập Nghị quyết số 12-NQ/TU",
    "Phương hướng, nhiệm vụ tháng tới",
)
LOCATIONS = ("Nhà văn hóa thôn", "Hội trường Đảng ủy xã", "Phòng họp cơ quan")
ABSENCE_REASONS = ("cong_tac", "om", "viec_gia_dinh")
