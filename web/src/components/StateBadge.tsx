const TONES: Record<string, string> = {
  online: 'ok',
  success: 'ok',
  degraded: 'warn',
  failed: 'bad',
  missing: 'bad',
  failure: 'bad',
  succeeded: 'ok',
  'in-sync': 'ok',
  healthy: 'ok',
  syncing: 'warn',
  resyncing: 'warn',
  paused: 'warn',
  cancelled: 'warn',
};

/** A state word with its colour: green is healthy, amber needs attention, red is broken. */
export function StateBadge({ state, title }: { state: string; title?: string }) {
  return (
    <span className={`badge badge-${TONES[state] ?? 'neutral'}`} title={title}>
      {state}
    </span>
  );
}
