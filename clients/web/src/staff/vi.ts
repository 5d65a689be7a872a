// Vietnamese texts of the staff screens' landing page. Each area keeps its own texts next to its
// screens (secretary/vi.ts, committee/vi.ts, admin/vi.ts) so they stay out of the members' bundle;
// texts the members' app already has are imported from ../i18n/vi.
export const s = {
  title: "Quản lý",
  intro: "Các việc theo vai trò được phân công của đồng chí.",
  areas: {
    cell: { title: "Điều hành chi bộ", hint: "Lịch sinh hoạt, điểm danh, biên bản, tiến độ học tập" },
    committee: { title: "Theo dõi của cấp ủy", hint: "Báo cáo, ban hành văn bản, đăng tin" },
    admin: { title: "Quản trị hệ thống", hint: "Đảng viên, nhập danh sách, phiếu kích hoạt, phân quyền" },
  },
  noRole: "Tài khoản chưa được phân vai trò quản lý nào.",
};
