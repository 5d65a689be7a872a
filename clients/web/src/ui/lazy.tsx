// Screens that only some users need (secretaries, committees, administrators) live in chunks of
// their own, fetched on first use: members never download them.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorBox, Loading } from "./common";

/** A module that renders the screen for `path`, or null when the path is not its own. */
export interface ScreenModule {
  screenFor(path: string): JSX.Element | null;
}

const loaded = new Map<() => Promise<ScreenModule>, ScreenModule>();

/** Renders `path` with the module `load` brings (once per page life); loading and failure shown. */
export function LazyScreen({
  load,
  path,
  fallback,
}: {
  load: () => Promise<ScreenModule>;
  path: string;
  fallback: () => JSX.Element;
}) {
  const [module, setModule] = useState<ScreenModule | undefined>(loaded.get(load));
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (module) return;
    let live = true;
    load().then(
      (m) => {
        loaded.set(load, m);
        if (live) setModule(m);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [load, attempt]);
  if (error) {
    return (
      <ErrorBox
        error={error}
        onRetry={() => {
          setError(null);
          setAttempt((n) => n + 1);
        }}
      />
    );
  }
  if (!module) return <Loading />;
  return module.screenFor(path) ?? fallback();
}
