// Vietnamese texts of the committee screens (kept out of the members' bundle).
export const v = {
  title: "Theo dõi của cấp ủy",
};
