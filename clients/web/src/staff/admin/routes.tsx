// The admin screens under /manage/admin (a chunk of their own).
import type { JSX } from "preact";
import { match } from "../../ui/router";
import { Screen } from "../../ui/common";
import { v } from "./vi";

export function screenFor(path: string): JSX.Element | null {
  if (match("/manage/admin", path)) {
    return (
      <Screen title={v.title}>
        <p />
      </Screen>
    );
  }
  return null;
}
