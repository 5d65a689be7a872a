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
    """The document as a DOCX file: heading, number (or "DỰ THẢO"), title, then its sections'
    paragraphs."""
    out = docx.Document()
    out.add_paragraph(doc.issuer.upper())
    # A draft has no number yet: it says what it is instead.
    out.add_paragraph(f"Số {doc.number}" if doc.number else "DỰ THẢO")
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


# ── the rest of party life: a consultation on a draft, a study quiz, the annual review ───────

# The draft the province's committee consults the members on: not published, not numbered yet.
DRAFT = DemoDocument(
    key="draft",
    kind="regulation",
    number="",
    title="Dự thảo Quy định về đánh giá chất lượng sinh hoạt chi bộ",
    issuer="Ban Thường vụ Tỉnh ủy Thanh Sơn",
    summary="Tiêu chí, cách chấm điểm và trách nhiệm đánh giá chất lượng sinh hoạt chi bộ hằng "
    "tháng; dự thảo lấy ý kiến đảng viên trước khi ban hành.",
    tags="sinh hoạt chi bộ,dự thảo,lấy ý kiến",
    scope="province",
    deadline_days=14,
    sections=(
        (
            "Điều 1. Phạm vi điều chỉnh và đối tượng áp dụng",
            (
                "Quy định này quy định tiêu chí, cách chấm điểm và trách nhiệm đánh giá chất "
                "lượng sinh hoạt thường kỳ của các chi bộ trong Đảng bộ tỉnh.",
                "Quy định áp dụng đối với chi bộ cơ sở, chi bộ trực thuộc đảng ủy cơ sở và cấp "
                "ủy cấp trên trực tiếp của chi bộ.",
            ),
        ),
        (
            "Điều 2. Tiêu chí đánh giá",
            (
                "Buổi sinh hoạt được đánh giá theo bốn nhóm tiêu chí: chuẩn bị nội dung; tỷ lệ "
                "đảng viên dự sinh hoạt; chất lượng thảo luận, phát biểu; việc ghi biên bản và "
                "báo cáo kết quả lên cấp trên.",
                "Chi bộ gửi tài liệu sinh hoạt đến đảng viên trước ít nhất ba ngày; mỗi buổi "
                "sinh hoạt có ít nhất một phần ba số đảng viên dự họp phát biểu ý kiến.",
            ),
        ),
        (
            "Điều 3. Cách chấm điểm và xếp loại",
            (
                "Mỗi nhóm tiêu chí tối đa 25 điểm. Buổi sinh hoạt đạt từ 80 điểm trở lên xếp "
                "loại tốt; từ 65 đến dưới 80 điểm xếp loại khá; từ 50 đến dưới 65 điểm xếp loại "
                "trung bình; dưới 50 điểm xếp loại chưa đạt yêu cầu.",
                "Chi bộ tự chấm điểm sau mỗi buổi sinh hoạt; cấp ủy cấp trên kiểm tra, thẩm "
                "định kết quả hằng quý.",
            ),
        ),
        (
            "Điều 4. Trách nhiệm thi hành",
            (
                "Bí thư chi bộ chịu trách nhiệm tổ chức tự đánh giá và cập nhật kết quả trên "
                "ứng dụng Sổ tay Đảng viên điện tử trong vòng năm ngày sau buổi sinh hoạt.",
                "Ban Tổ chức Tỉnh ủy chủ trì, phối hợp với Văn phòng Tỉnh ủy hướng dẫn, theo "
                "dõi, kiểm tra việc thực hiện Quy định này.",
            ),
        ),
    ),
)
CONSULTATION_TITLE = "Lấy ý kiến góp ý Dự thảo Quy định về đánh giá chất lượng sinh hoạt chi bộ"
CONSULTATION_PURPOSE = (
    "Ban Thường vụ Tỉnh ủy đề nghị các đồng chí đảng viên nghiên cứu, góp ý từng điều của dự "
    "thảo, nhất là các tiêu chí và cách chấm điểm, để Quy định sát với thực tiễn sinh hoạt của "
    "chi bộ."
)

# Members' comments: (the section's heading, or None for the whole draft; the text).
CONSULTATION_COMMENTS: tuple[tuple[str | None, str], ...] = (
    (
        "Điều 2. Tiêu chí đánh giá",
        "Đề nghị bổ sung tiêu chí về việc theo dõi, đôn đốc thực hiện nghị quyết của buổi sinh "
        "hoạt trước; hiện dự thảo mới đánh giá từng buổi riêng lẻ.",
    ),
    (
        "Điều 2. Tiêu chí đánh giá",
        "Quy định gửi tài liệu trước ba ngày là hợp lý, nhưng với chi bộ thôn có nhiều đảng viên "
        "cao tuổi chưa dùng điện thoại thông minh, đề nghị cho phép gửi bản in qua tổ trưởng.",
    ),
    (
        "Điều 3. Cách chấm điểm và xếp loại",
        "Mức 80 điểm cho loại tốt là phù hợp. Tuy nhiên nên có hướng dẫn chấm điểm cụ thể cho "
        "từng nhóm tiêu chí, tránh mỗi chi bộ hiểu một cách.",
    ),
    (
        "Điều 3. Cách chấm điểm và xếp loại",
        "Đề nghị cân nhắc việc chi bộ tự chấm điểm sau mỗi buổi: dễ mang tính hình thức. Có thể "
        "để cấp ủy cấp trên dự và chấm điểm ngẫu nhiên một số buổi.",
    ),
    (
        "Điều 4. Trách nhiệm thi hành",
        "Thời hạn năm ngày để cập nhật kết quả là hơi ngắn đối với chi bộ ở xã vùng cao, đề "
        "nghị nâng lên bảy ngày.",
    ),
    (
        "Điều 1. Phạm vi điều chỉnh và đối tượng áp dụng",
        "Đề nghị làm rõ Quy định có áp dụng cho buổi sinh hoạt chuyên đề hay chỉ sinh hoạt "
        "thường kỳ hằng tháng.",
    ),
    (
        None,
        "Tôi nhất trí với dự thảo. Quy định ngắn gọn, dễ hiểu, phù hợp với yêu cầu nâng cao "
        "chất lượng sinh hoạt chi bộ theo Nghị quyết số 12-NQ/TU.",
    ),
    (
        None,
        "Đề nghị khi ban hành có kèm mẫu phiếu tự đánh giá để các chi bộ thống nhất thực hiện.",
    ),
)
# The demo member's own comment, which the committee answers (accepted, with a reply).
MEMBER_COMMENT = (
    "Điều 2. Tiêu chí đánh giá",
    "Đề nghị tính cả việc đảng viên phát biểu qua ứng dụng (góp ý bằng văn bản trước buổi "
    "sinh hoạt) vào tỷ lệ phát biểu, vì nhiều đồng chí đi làm ăn xa không dự trực tiếp được.",
)
MEMBER_COMMENT_REPLY = (
    "Cảm ơn đồng chí. Ban soạn thảo tiếp thu, sẽ bổ sung vào Điều 2: ý kiến gửi qua ứng dụng "
    "trước buổi sinh hoạt được tính như phát biểu tại buổi sinh hoạt."
)
# The committee's answer to the comment proposing the committee grade at random (rejected).
REJECTED_REPLY = (
    "Cảm ơn đồng chí đã góp ý.",
    "Việc kiểm tra, thẩm định đã quy định hằng quý tại Điều 3; cấp ủy cấp trên không đủ nhân "
    "lực để dự và chấm điểm từng buổi sinh hoạt của các chi bộ.",
)

# The study quiz on the resolution (12-NQ/TU): (question, choices, the right choice's index).
QUIZ: tuple[tuple[str, tuple[str, ...], int], ...] = (
    (
        "Đến năm 2030, tỷ lệ đảng viên dự sinh hoạt chi bộ mà Nghị quyết đề ra là bao nhiêu?",
        ("Từ 80% trở lên", "Từ 90% trở lên", "Từ 95% trở lên", "100%"),
        2,
    ),
    (
        "Mỗi chi bộ tổ chức sinh hoạt chuyên đề ít nhất bao lâu một lần?",
        ("Mỗi tháng", "Mỗi quý", "Sáu tháng một lần", "Mỗi năm"),
        1,
    ),
    (
        "Tài liệu sinh hoạt được gửi đến đảng viên trước buổi sinh hoạt ít nhất bao nhiêu ngày?",
        ("Một ngày", "Hai ngày", "Ba ngày", "Một tuần"),
        2,
    ),
    (
        "Hằng năm, Nghị quyết phấn đấu bao nhiêu phần trăm chi bộ được đánh giá sinh hoạt có "
        "chất lượng tốt?",
        ("Trên 50%", "Trên 70%", "Trên 80%", "Trên 90%"),
        2,
    ),
    (
        "Ai được đề cao vai trò điều hành buổi sinh hoạt chi bộ?",
        ("Bí thư chi bộ", "Đảng viên cao tuổi nhất", "Cấp ủy cấp trên", "Trưởng thôn"),
        0,
    ),
    (
        "Sau buổi sinh hoạt, chi bộ phải thực hiện việc nào sau đây đúng thời hạn?",
        (
            "Báo cáo kết quả sinh hoạt lên cấp ủy cấp trên",
            "Tổ chức liên hoan",
            "Gửi biên bản cho từng hộ dân",
            "Không phải làm gì thêm",
        ),
        0,
    ),
)

# Self-assessments of the annual review: (the text, the grade the member proposes).
SELF_ASSESSMENTS: tuple[tuple[str, str], ...] = (
    (
        "Trong năm, tôi luôn giữ vững lập trường tư tưởng chính trị, chấp hành nghiêm chủ "
        "trương của Đảng, chính sách, pháp luật của Nhà nước. Tham gia đầy đủ các buổi sinh "
        "hoạt chi bộ, hoàn thành tốt nhiệm vụ được phân công phụ trách nhóm hộ.\n\nHạn chế: "
        "đôi lúc phát biểu ý kiến trong sinh hoạt còn ít. Năm tới tôi sẽ chủ động nghiên cứu "
        "tài liệu trước để đóng góp nhiều hơn.",
        "tot",
    ),
    (
        "Bản thân có phẩm chất đạo đức, lối sống lành mạnh, giữ mối quan hệ tốt với nhân dân "
        "nơi cư trú. Đã vận động 12 hộ gia đình di dời khỏi vùng nguy cơ sạt lở trong mùa mưa "
        "bão và tham gia hiến đất làm đường liên thôn.\n\nTự nhận thấy đã hoàn thành xuất sắc "
        "nhiệm vụ được giao.",
        "xuat_sac",
    ),
    (
        "Tôi chấp hành tốt Điều lệ Đảng và quy định của chi bộ, đóng đảng phí đầy đủ, đúng hạn. "
        "Do điều kiện sức khỏe, có hai buổi sinh hoạt vắng mặt có lý do.\n\nNăm tới tôi sẽ cố "
        "gắng tham gia đầy đủ hơn và học tập Nghị quyết số 12-NQ/TU trên ứng dụng.",
        "hoan_thanh",
    ),
    (
        "Hoàn thành các nhiệm vụ chuyên môn và nhiệm vụ đảng viên được giao; tích cực tham gia "
        "phong trào xây dựng nông thôn mới của xã. Học tập, quán triệt đầy đủ các nghị quyết, "
        "chỉ thị của cấp trên.\n\nHạn chế: việc tuyên truyền, vận động gia đình và nhân dân có "
        "lúc chưa thường xuyên.",
        "tot",
    ),
)
