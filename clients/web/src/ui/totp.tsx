// Enrolling the second factor (TOTP): start, scan the QR or type the key, confirm with a code.
// Shared by the profile screen and the admin screens' gate, each with its own wording.
import { useState } from "preact/hooks";
import { post } from "../api/client";
import type { TotpEnrolment } from "../api/types";
import { ErrorBox } from "./common";
import { SafeHtml } from "./html";

export interface EnrolmentTexts {
  start: string;
  scan: string;
  secret: string;
  code: string;
  confirm: string;
}

export function TotpEnrolmentForm({
  texts,
  onEnabled,
  inputId,
  startClass = "button",
}: {
  texts: EnrolmentTexts;
  onEnabled: () => void | Promise<void>;
  inputId: string;
  startClass?: string;
}) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function start() {
    setError(null);
    try {
      setEnrolment(await post<TotpEnrolment>("/api/v1/auth/totp"));
    } catch (e) {
      setError(e);
    }
  }
  async function confirm(event: Event) {
    event.preventDefault();
    setError(null);
    const otp = new FormData(event.currentTarget as HTMLFormElement).get("otp");
    try {
      await post("/api/v1/auth/totp/confirm", { otp });
      setEnrolment(null);
      await onEnabled();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      {!enrolment && (
        <button type="button" class={startClass} onClick={start}>
          {texts.start}
        </button>
      )}
      {enrolment && (
        <form class="stack" onSubmit={confirm}>
          <p>{texts.scan}</p>
          <SafeHtml html={enrolment.qr_svg} class="qr" svg />
          <p>
            {texts.secret} <code data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <label for={inputId}>{texts.code}</label>
          <input id={inputId} name="otp" autoComplete="one-time-code" inputMode="numeric" required />
          <button type="submit" class="button">
            {texts.confirm}
          </button>
        </form>
      )}
      {error !== null && <ErrorBox error={error} />}
    </>
  );
}
