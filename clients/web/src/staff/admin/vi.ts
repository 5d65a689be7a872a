// Vietnamese texts of the admin screens (kept out of the members' bundle).
export const v = {
  title: "Quản trị hệ thống",
};
