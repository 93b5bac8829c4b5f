import type { ReactNode } from 'react';

/** An object's properties as a two-column list; empty values read as a dash. */
export function Details({ items }: { items: Array<[string, ReactNode]> }) {
  return (
    <dl className="details">
      {items.map(([k, v]) => (
        <div key={k} className="details-row">
          <dt>{k}</dt>
          <dd>{v === null || v === undefined || v === '' ? '–' : v}</dd>
        </div>
      ))}
    </dl>
  );
}
