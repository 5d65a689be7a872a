// The signed-in member, shared by every screen.
import { signal } from "@preact/signals";
import { NetworkError, del, get, logout, refresh } from "./api/client";
import type { Me, PushSubscription } from "./api/types";
import { eraseMember, flush, recall, remember, setMember } from "./offline/store";

// Which member used this device last (an id, nothing secret): lets the app open their saved
// data when it starts without a network. Cleared at sign-out.
const LAST_MEMBER = "sotay.member";
// The id of this device's push subscription on the server (not secret), so sign-out removes it.
const PUSH_SUBSCRIPTION = "sotay.push-subscription";

/** After the member turned push on: remember which server-side subscription is this device's. */
export function rememberPushSubscription(id: string): void {
  localStorage.setItem(PUSH_SUBSCRIPTION, id);
}

/** Signing out stops pushes to this device (and to every device when signing out everywhere):
 * the server forgets the subscriptions and the browser unsubscribes. Never blocks sign-out. */
async function dropPushSubscriptions(everywhere: boolean): Promise<void> {
  const ids = new Set<string>();
  const mine = localStorage.getItem(PUSH_SUBSCRIPTION);
  if (mine) ids.add(mine);
  try {
    if (everywhere) {
      for (const s of await get<PushSubscription[]>("/api/v1/push-subscriptions")) ids.add(s.id);
    }
    await Promise.all([...ids].map((id) => del(`/api/v1/push-subscriptions/${id}`).catch(() => undefined)));
    const registration = await navigator.serviceWorker?.getRegistration();
    await (await registration?.pushManager?.getSubscription())?.unsubscribe();
  } catch {
    // Offline or push unsupported: the server drops a subscription its push service refuses.
  }
  localStorage.removeItem(PUSH_SUBSCRIPTION);
}

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
  await dropPushSubscriptions(everywhere);
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
