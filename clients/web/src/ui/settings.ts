// Device preferences (not personal data, nothing secret): text size and theme.
import { signal } from "@preact/signals";

const SIZES = [100, 112, 125, 150, 175, 200];
const saved = (key: string) => localStorage.getItem(key);

export const textSize = signal(Math.max(0, SIZES.indexOf(Number(saved("sotay.textSize") ?? 100))));
export const theme = signal<string>(saved("sotay.theme") ?? "auto");

function apply(): void {
  const root = document.documentElement;
  root.style.setProperty("--text-scale", String(SIZES[textSize.value] / 100));
  root.dataset.theme = theme.value;
  // From 150 % the bottom tab bar no longer fits a phone's width: the layout lets it flow.
  root.toggleAttribute("data-large-text", SIZES[textSize.value] >= 150);
}

export function setTextSize(index: number): void {
  textSize.value = Math.max(0, Math.min(SIZES.length - 1, index));
  localStorage.setItem("sotay.textSize", String(SIZES[textSize.value]));
  apply();
}

export function setTheme(value: string): void {
  theme.value = value;
  localStorage.setItem("sotay.theme", value);
  apply();
}

export const TEXT_SIZES = SIZES;
apply();
