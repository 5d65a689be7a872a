// The signed-in member, shared by every screen.
import { signal } from "@preact/signals";
import { NetworkError, get, logout, refresh } from "./api/client";
import type { Me } from "./api/types";
import { eraseMember, flush, recall, remember, setMember } from "./offline/store";

// Which member used this device last (an id, nothing secret): lets the app open their saved
// data when it starts without a network. Cleared at sign-out.
const LAST_MEMBER = "sotay.member";

export const me = signal<Me | null>(null);
export const booting = signal(true);

/** After a token was obtained: who am I, then send what waited on this device. */
export async function enter(): Promise<void> {
  const profile = await get<Me>("/api/v1/me");
  setMember(profile.id);
  localStorage.setItem(LAST_MEMBER, profile.id);
  void remember("me", profile);
  me.value = profile;
  void flush();
}

/** On app start: a session survives reloads and restarts through the refresh cookie. */
export async function resume(): Promise<void> {
  try {
    if (await refresh()) await enter();
  } catch (error) {
    // No network at start: open what the last member saw; writes wait in the queue.
    const last = localStorage.getItem(LAST_MEMBER);
    if (error instanceof NetworkError && last) {
      setMember(last);
      me.value = (await recall<Me>("me")) ?? null;
      if (!me.value) setMember(null);
    }
  } finally {
    booting.value = false;
  }
}

export async function signOut(everywhere: boolean): Promise<void> {
  const id = me.value?.id;
  await logout(everywhere);
  if (id) await eraseMember(id);
  localStorage.removeItem(LAST_MEMBER);
  setMember(null);
  me.value = null;
}

/** The API said the session is over (refresh refused): back to sign-in, keeping nothing. */
export function sessionEnded(): void {
  const id = me.value?.id;
  if (id) void eraseMember(id);
  localStorage.removeItem(LAST_MEMBER);
  me.value = null;
}
