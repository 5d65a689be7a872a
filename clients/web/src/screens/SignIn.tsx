import { useState } from "preact/hooks";
import { ApiError, login, setFirstPassword } from "../api/client";
import { t } from "../i18n/vi";
import { enter } from "../session";
import { ErrorBox, Screen } from "../ui/common";

type Step = "password" | "otp" | "choose";

/** Card number or phone + password; the TOTP step when the account has one; at first login the
 * activation code is the password and the member then chooses their own. */
export function SignIn() {
  const [step, setStep] = useState<Step>("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [reveal, setReveal] = useState(false);

  async function attempt(credentials: { username: string; password: string; otp?: string }) {
    try {
      await login(credentials);
      await enter();
    } catch (e) {
      if (e instanceof ApiError && e.slug === "second-factor-required") {
        setError(null);
        setStep("otp");
        return;
      }
      if (e instanceof ApiError && e.slug === "password-change-required") {
        setError(null);
        setStep("choose");
        return;
      }
      throw e;
    }
  }

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (step === "choose") {
        if (next !== again) {
          setError(new ApiError(400, { title: t.signIn.mismatch }));
          return;
        }
        await setFirstPassword(username.trim(), password, next);
        setPassword(next);
        await attempt({ username: username.trim(), password: next });
      } else {
        await attempt({
          username: username.trim(),
          password,
          otp: step === "otp" ? otp.trim() : undefined,
        });
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const title = step === "otp" ? t.signIn.otpTitle : step === "choose" ? t.signIn.firstTitle : t.signIn.title;
  return (
    <main id="main" class="sign-in">
      <p class="brand" aria-hidden="true">
        {t.appName}
      </p>
      <Screen title={title}>
        <form onSubmit={submit} class="stack" noValidate={false}>
          {step === "password" && (
            <>
              <p>{t.signIn.intro}</p>
              <label for="username">{t.signIn.username}</label>
              <input
                id="username"
                name="username"
                autoComplete="username"
                inputMode="text"
                autoCapitalize="characters"
                required
                value={username}
                onInput={(e) => setUsername(e.currentTarget.value)}
              />
              <label for="password">{t.signIn.password}</label>
              <input
                id="password"
                name="password"
                type={(reveal ? "text" : "password") as "password"}
                autoComplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
              <label class="check">
                <input type="checkbox" checked={reveal} onChange={(e) => setReveal(e.currentTarget.checked)} />
                {t.signIn.showPassword}
              </label>
            </>
          )}
          {step === "otp" && (
            <>
              <p>{t.signIn.otpIntro}</p>
              <label for="otp">{t.signIn.otp}</label>
              <input
                id="otp"
                name="otp"
                autoComplete="one-time-code"
                inputMode="numeric"
                pattern="[0-9]*"
                required
                value={otp}
                onInput={(e) => setOtp(e.currentTarget.value)}
              />
            </>
          )}
          {step === "choose" && (
            <>
              <p>{t.signIn.firstIntro}</p>
              <input type="hidden" name="username" autoComplete="username" value={username} />
              <label for="new-password">{t.signIn.newPassword}</label>
              <input
                id="new-password"
                name="new-password"
                type={(reveal ? "text" : "password") as "password"}
                autoComplete="new-password"
                required
                value={next}
                onInput={(e) => setNext(e.currentTarget.value)}
              />
              <label for="new-password-again">{t.signIn.newPasswordAgain}</label>
              <input
                id="new-password-again"
                name="new-password-again"
                type={(reveal ? "text" : "password") as "password"}
                autoComplete="new-password"
                required
                value={again}
                onInput={(e) => setAgain(e.currentTarget.value)}
              />
              <label class="check">
                <input type="checkbox" checked={reveal} onChange={(e) => setReveal(e.currentTarget.checked)} />
                {t.signIn.showPassword}
              </label>
            </>
          )}
          {error !== null && <ErrorBox error={error} />}
          <button type="submit" class="button" disabled={busy}>
            {busy
              ? t.signIn.working
              : step === "otp"
                ? t.signIn.otpSubmit
                : step === "choose"
                  ? t.signIn.setPassword
                  : t.signIn.submit}
          </button>
        </form>
      </Screen>
    </main>
  );
}
