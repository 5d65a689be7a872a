// Dates and times as members read them: Vietnamese, in Asia/Ho_Chi_Minh whatever the device says.
const ZONE = "Asia/Ho_Chi_Minh";

const dateTime = new Intl.DateTimeFormat("vi-VN", {
  timeZone: ZONE,
  weekday: "long",
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const dateOnly = new Intl.DateTimeFormat("vi-VN", {
  timeZone: ZONE,
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
});

export function when(iso: string): string {
  return dateTime.format(new Date(iso));
}

export function day(iso: string): string {
  // A bare date (YYYY-MM-DD) is a calendar day, not an instant: format it without shifting.
  const d = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00+07:00`) : new Date(iso);
  return dateOnly.format(d);
}
