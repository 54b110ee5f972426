import { useCallback, useEffect, useRef, useState } from 'react';

/** How often open pages refresh; `?poll=<ms>` in the address overrides it. */
export const POLL_MS = (() => {
  const fromUrl = Number(new URLSearchParams(window.location.search).get('poll'));
  return Number.isFinite(fromUrl) && fromUrl >= 250 ? fromUrl : 3000;
})();

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  refresh: () => Promise<void>;
}

/**
 * Loads now, then again every `intervalMs` while the page is open and visible; a newer
 * key (the deps) discards answers still in flight for the older one.
 */
export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], intervalMs: number | null = POLL_MS): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const refresh = useCallback(async () => {
    const mine = generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (err) {
      if (mine !== generation.current) return;
      setError((err as Error).message);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    generation.current += 1;
    setData(undefined);
    setLoading(true);
    void refresh();
    if (intervalMs === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void refresh();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [...deps, intervalMs]);

  return { data, error, loading, refresh };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
