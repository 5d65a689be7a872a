// What the signed-in user may manage, from the roles on their profile (`GET /api/v1/me`). The
// services check every request against the org subtree; this only decides which screens to offer.
import type { Me } from "../api/types";

export type Area = "cell" | "committee" | "admin";

const AREA_ROLES: Record<Area, readonly string[]> = {
  cell: ["cell_secretary", "cell_deputy"],
  committee: ["committee_member", "org_admin"],
  admin: ["org_admin", "operator"],
};

/** The orgs where `me` holds a role of `area`, nearest first as the profile lists them. */
export function orgsFor(me: Me, area: Area): Me["roles"][number]["org"][] {
  return me.roles.filter((r) => AREA_ROLES[area].includes(r.role)).map((r) => r.org);
}

export function areasOf(me: Me): Area[] {
  return (Object.keys(AREA_ROLES) as Area[]).filter((a) => orgsFor(me, a).length > 0);
}

/** Whether `me` may open any staff screen (the app then shows the "Quản lý" entry). */
export function isStaff(me: Me): boolean {
  return areasOf(me).length > 0;
}
