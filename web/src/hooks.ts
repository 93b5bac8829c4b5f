import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { ApiError, api, sessionStore } from './api';
import { parseStats, unavailable, type StatsView } from './stats';

export const useSession = () => useSyncExternalStore(sessionStore.subscribe, sessionStore.get);

/** Anything thrown, as the ApiError shape the error notes show. */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'CLIENT_ERROR', e instanceof Error ? e.message : String(e));
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  reload: () => void;
}

/**
 * Data for a page: loaded when the key changes, again on reload(), and every
 * refreshMs while the tab is visible. A failed refresh keeps the last data on
 * screen next to the error, so a blip does not blank the page.
 */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>, refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<{ key: string; value: T }>();
  const [error, setError] = useState<ApiError | null>(null);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    const ctl = new AbortController();
    let timer: number | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current(ctl.signal);
        if (ctl.signal.aborted) return;
        setData({ key, value });
        setError(null);
      } catch (e) {
        if (ctl.signal.aborted) return;
        setError(asApiError(e));
      }
      if (refreshMs) timer = window.setTimeout(tick, refreshMs);
    };
    const tick = () => {
      if (document.hidden) timer = window.setTimeout(tick, refreshMs);
      else void run();
    };
    void run();
    return () => {
      ctl.abort();
      window.clearTimeout(timer);
    };
  }, [key, version, refreshMs]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  // Data of the previous key (another volume's page) is not this page's data.
  return { data: data?.key === key ? data.value : undefined, error, reload };
}

export interface Action {
  busy: boolean;
  error: ApiError | null;
  /** Runs fn, showing its error; resolves true when it succeeded. */
  run: (fn: () => Promise<unknown>) => Promise<boolean>;
  clear: () => void;
}

/** A form's submit: one at a time, with the API's error kept for display next to the form. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const busyRef = useRef(false);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    if (busyRef.current) return false;
    busyRef.current = true;
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(asApiError(e));
      return false;
    } finally {
      busyRef.current = false;
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(null), []);
  return { busy, error, run, clear };
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Strata` : 'Strata';
  }, [title]);
}

/** How often the console asks for live statistics: the charts move without a reload. */
export const STATS_EVERY_MS = 2000;

/**
 * GET /api/v1/stats every STATS_EVERY_MS, checked. A gateway without the
 * endpoint (404) or a failing one makes every panel say why; polling goes
 * on, so the charts come alive when the endpoint does.
 */
export function useStats(): StatsView | undefined {
  const { data, error } = useLoad('stats', (signal) => api.stats(signal), STATS_EVERY_MS);
  return useMemo(() => {
    if (error) return unavailable(error.status === 404 ? 'this gateway does not serve GET /api/v1/stats' : `${error.message} (${error.code})`);
    return data === undefined ? undefined : parseStats(data);
  }, [data, error]);
}
