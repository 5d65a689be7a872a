// Vietnamese texts of the secretary screens (kept out of the members' bundle).
export const v = {
  title: "Điều hành chi bộ",
};
