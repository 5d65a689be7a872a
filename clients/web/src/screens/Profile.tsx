import { useState } from "preact/hooks";
import { api, get } from "../api/client";
import type { CellMate, Distinction, GradeOut, MemberRecord, Page } from "../api/types";
import { t } from "../i18n/vi";
import { cachedGet } from "../offline/store";
import { me, signOut } from "../session";
import { ErrorBox, Screen, Show, useAsync } from "../ui/common";
import { day } from "../ui/format";
import { TotpEnrolmentForm } from "../ui/totp";
import { navigate } from "../ui/router";
import { TEXT_SIZES, setTextSize, setTheme, textSize, theme } from "../ui/settings";

function Distinctions({ id, title, items }: { id: string; title: string; items: Distinction[] }) {
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>{title}</h2>
      {items.length === 0 ? (
        <p>{t.profile.none}</p>
      ) : (
        <ul class="plain" data-testid={id}>
          {items.map((d) => (
            <li key={d.id}>
              <strong>{t.profile.forms[d.form] ?? d.form}</strong> — {t.profile.decision(d.decision_number, day(d.decided_on), d.decided_by_title)}
              <br />
              {d.reason}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Profile() {
  const profile = me.value!;
  const record = useAsync(() => cachedGet<MemberRecord>("/api/v1/me/record"), [profile.id]);
  const grades = useAsync(() => cachedGet<GradeOut[]>("/api/v1/reviews/grades"), [profile.id]);
  const cell = useAsync(() => cachedGet<Page<CellMate>>("/api/v1/me/cell/members", { limit: 200 }), []);

  async function leave(everywhere: boolean) {
    await signOut(everywhere);
    navigate("/", true);
  }

  return (
    <Screen title={profile.full_name}>
      <dl class="facts">
        <dt>{t.profile.card}</dt>
        <dd>{profile.card_number}</dd>
        <dt>{t.profile.cell}</dt>
        <dd>{profile.cell.title}</dd>
        <dt>{t.profile.orgPath}</dt>
        <dd>{profile.org_path.map((o) => o.title).join(" › ")}</dd>
        {profile.roles.length > 0 && (
          <>
            <dt>{t.profile.roles}</dt>
            <dd>
              {profile.roles.map((r) => `${t.roleNames[r.role] ?? r.role} (${r.org.title})`).join("; ")}
            </dd>
          </>
        )}
      </dl>

      <section aria-labelledby="my-cell" class="card">
        <h2 id="my-cell">{t.profile.myCell}</h2>
        <Show state={cell}>
          {(page) => (
            <ul class="plain">
              {page.items.map((m) => (
                <li key={m.id}>
                  {m.full_name}
                  {m.roles.length > 0 && ` — ${m.roles.map((r) => t.roleNames[r] ?? r).join(", ")}`}
                </li>
              ))}
            </ul>
          )}
        </Show>
      </section>

      <Show state={record}>
        {(r) => (
          <>
            <section aria-labelledby="history" class="card">
              <h2 id="history">{t.profile.history}</h2>
              <dl class="facts">
                <dt>{t.profile.admittedOn}</dt>
                <dd>{r.admitted_on ? day(r.admitted_on) : t.profile.notRecorded}</dd>
                <dt>{t.profile.officialOn}</dt>
                <dd>{r.official_on ? day(r.official_on) : t.profile.notRecorded}</dd>
              </dl>
              <ul class="plain">
                {r.history.map((m) => (
                  <li key={`${m.cell_id}-${m.started_on}`}>
                    {m.cell_title} — {t.profile.since(day(m.started_on))}
                    {m.ended_on ? ` ${t.profile.until(day(m.ended_on))}` : ""}
                  </li>
                ))}
              </ul>
            </section>
            <Distinctions id="rewards" title={t.profile.rewards} items={r.rewards} />
            <Distinctions id="discipline" title={t.profile.discipline} items={r.discipline} />
          </>
        )}
      </Show>

      <section aria-labelledby="grades" class="card">
        <h2 id="grades">{t.profile.grades}</h2>
        <Show state={grades}>
          {(list) =>
            list.length === 0 ? (
              <p>{t.profile.none}</p>
            ) : (
              <ul class="plain">
                {list.map((g) => (
                  <li key={g.period_id}>
                    {t.profile.gradeOfYear(g.year, g.grade_title)}
                    {g.reason ? ` (${g.reason})` : ""}
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
        <p>
          <a href="/reviews">{t.profile.reviewLink}</a>
        </p>
      </section>

      <section aria-labelledby="display" class="card">
        <h2 id="display">{t.profile.display}</h2>
        <div class="stack">
          <label for="text-size">{t.profile.textSize}</label>
          <select id="text-size" value={String(textSize.value)} onChange={(e) => setTextSize(Number(e.currentTarget.value))}>
            {TEXT_SIZES.map((size, i) => (
              <option key={size} value={String(i)}>
                {size}%
              </option>
            ))}
          </select>
          <label for="theme">{t.profile.theme}</label>
          <select id="theme" value={theme.value} onChange={(e) => setTheme(e.currentTarget.value)}>
            {Object.entries(t.profile.themes).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </section>

      <section aria-labelledby="security" class="card">
        <h2 id="security">{t.profile.security}</h2>
        <ChangePassword />
        <SecondFactor />
      </section>

      <div class="stack">
        <button type="button" class="button secondary" onClick={() => leave(false)}>
          {t.profile.signOut}
        </button>
        <button type="button" class="button secondary" onClick={() => leave(true)}>
          {t.profile.signOutAll}
        </button>
      </div>
    </Screen>
  );
}

function ChangePassword() {
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(null);
  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    setMessage("");
    if (data.get("new-password") !== data.get("new-password-again")) {
      setMessage(t.signIn.mismatch);
      return;
    }
    try {
      await api("POST", "/api/v1/auth/password", {
        body: { current_password: data.get("current-password"), new_password: data.get("new-password") },
      });
      form.reset();
      setMessage(t.profile.passwordChanged);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <form class="stack" onSubmit={submit}>
      <h3>{t.profile.changePassword}</h3>
      <input type="hidden" name="username" autoComplete="username" value={me.value?.card_number} />
      <label for="current-password">{t.profile.currentPassword}</label>
      <input id="current-password" name="current-password" type="password" autoComplete="current-password" required />
      <label for="new-password">{t.signIn.newPassword}</label>
      <input id="new-password" name="new-password" type="password" autoComplete="new-password" required />
      <label for="new-password-again">{t.signIn.newPasswordAgain}</label>
      <input id="new-password-again" name="new-password-again" type="password" autoComplete="new-password" required />
      {error !== null && <ErrorBox error={error} />}
      <p role="status" class="status">
        {message}
      </p>
      <button type="submit" class="button secondary">
        {t.profile.changePassword}
      </button>
    </form>
  );
}

function SecondFactor() {
  const [enabled, setEnabled] = useState(me.value?.second_factor.enabled ?? false);
  return (
    <div class="stack">
      <h3>{t.profile.totp}</h3>
      <p role="status">{enabled ? t.profile.totpOn : t.profile.totpOff}</p>
      {!enabled && (
        <TotpEnrolmentForm
          inputId="totp-otp"
          startClass="button secondary"
          texts={{
            start: t.profile.totpStart,
            scan: t.profile.totpScan,
            secret: t.profile.totpSecret,
            code: t.signIn.otp,
            confirm: t.profile.totpConfirm,
          }}
          onEnabled={async () => {
            setEnabled(true);
            me.value = await get("/api/v1/me");
          }}
        />
      )}
    </div>
  );
}
