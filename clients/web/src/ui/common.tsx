import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { describe } from "../api/client";
import { t } from "../i18n/vi";
import { hasNavigated } from "./router";

/** A failure as the member reads it: the problem's Vietnamese title and detail. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = describe(error);
  return (
    <div class="problem" role="alert">
      <p class="problem-title">{title}</p>
      {detail && <p>{detail}</p>}
      {onRetry && (
        <button type="button" class="button secondary" onClick={onRetry}>
          {t.retry}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  return (
    <p class="loading" role="status">
      {t.loading}
    </p>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  set: (value: T) => void;
}

/** Load once per change of `deps`; keeps the last value while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload, set: setData };
}

/** Call `tick` every `ms` while `active`: a screen's poll (pass a stable function, e.g.
 *  `useAsync`'s `reload`). */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(tick, ms);
    return () => clearInterval(timer);
  }, [tick, ms, active]);
}

export function Show<T>({ state, children }: { state: Async<T>; children: (data: T) => ComponentChildren }) {
  if (state.data !== undefined) return <>{children(state.data)}</>;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  return <Loading />;
}

export function Screen({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · ${t.appName}`;
    // After moving to another screen, focus its heading so keyboard and screen-reader users
    // start there (on a fresh load the browser's own starting point is kept).
    if (hasNavigated()) document.getElementById("screen-title")?.focus();
  }, [title]);
  return (
    <>
      <h1 id="screen-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}
