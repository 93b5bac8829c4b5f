import { useMemo, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNote } from '../components/ErrorNote';
import { PageHeader } from '../components/PageHeader';
import { StateBadge } from '../components/StateBadge';
import { actionPrefix, formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, navigate, pathTo, useSearch } from '../router';
import type { AuditEntry, AuditFilter } from '../types';

/** Entries per request; "Load more" asks for the next ones below the oldest shown. */
const PAGE = 50;

const OBJECT_TYPES = ['device', 'pool', 'volume', 'host', 'assignment', 'user'];
const LINKED = { device: 'devices', pool: 'pools', volume: 'volumes', host: 'hosts' } as const;

/** The filter lives in the address (/audit?action=volume), so a filtered view can be bookmarked or linked to. */
const FIELDS = ['actor', 'action', 'objectType', 'object', 'outcome', 'since', 'until'] as const;
type FormState = Record<(typeof FIELDS)[number], string>;

function formFrom(search: string): FormState {
  const q = new URLSearchParams(search);
  return Object.fromEntries(FIELDS.map((f) => [f, q.get(f) ?? ''])) as FormState;
}

/** datetime-local holds the admin's local time without a zone; the API wants an instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

function filterOf(f: FormState): AuditFilter {
  return {
    actor: f.actor.trim() || undefined,
    action: actionPrefix(f.action),
    objectType: f.objectType || undefined,
    object: f.object.trim() || undefined,
    outcome: f.outcome === 'success' || f.outcome === 'failure' ? f.outcome : undefined,
    since: instant(f.since),
    until: instant(f.until),
  };
}

export function AuditPage() {
  const search = useSearch();
  const form = useMemo(() => formFrom(search), [search]);
  const first = useLoad(`audit:${search}`, (signal) => api.audit({ ...filterOf(form), limit: PAGE }, signal));
  const [older, setOlder] = useState<{ search: string; entries: AuditEntry[]; end: boolean }>({ search, entries: [], end: false });
  const more = useAction();

  // Pages fetched for another filter do not belong under this one.
  const extra = older.search === search ? older : { search, entries: [], end: false };
  const entries = [...(first.data ?? []), ...extra.entries];
  const end = first.data !== undefined && (first.data.length < PAGE || extra.end);

  const loadMore = () =>
    more.run(async () => {
      const before = entries[entries.length - 1]?.id;
      const next = await api.audit({ ...filterOf(form), limit: PAGE, before });
      setOlder({ search, entries: [...extra.entries, ...next], end: next.length < PAGE });
    });

  return (
    <>
      <PageHeader title="Audit log" subtitle="Who changed what, newest first" />
      <Filters key={search} initial={form} />
      <ErrorNote error={first.error} />
      {first.data && (
        <div className="panel table-wrap">
          {entries.length === 0 ? <p className="panel-body empty">No entries match these filters.</p> : <AuditTable entries={entries} />}
        </div>
      )}
      {first.data && entries.length > 0 && (
        <div className="load-more">
          {end ? (
            <span className="muted">End of the log: {entries.length} entries shown.</span>
          ) : (
            <button type="button" className="button" disabled={more.busy} onClick={() => void loadMore()}>
              {more.busy ? 'Loading…' : `Load ${PAGE} more`}
            </button>
          )}
          <ErrorNote error={more.error} />
        </div>
      )}
    </>
  );
}

function Filters({ initial }: { initial: FormState }) {
  const [f, setF] = useState(initial);
  const set = (k: keyof FormState) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of FIELDS) if (f[k].trim()) q.set(k, f[k].trim());
    const qs = q.toString();
    navigate(qs ? `/audit?${qs}` : '/audit');
  };

  return (
    <form className="panel filters" onSubmit={apply} aria-label="Filter the audit log">
      <div className="field">
        <label htmlFor="audit-actor">Actor</label>
        <input id="audit-actor" value={f.actor} onChange={set('actor')} placeholder="e.g. admin" />
      </div>
      <div className="field">
        <label htmlFor="audit-action">Action prefix</label>
        <input id="audit-action" value={f.action} onChange={set('action')} placeholder="e.g. volume" />
      </div>
      <div className="field">
        <label htmlFor="audit-type">Object type</label>
        <select id="audit-type" value={f.objectType} onChange={set('objectType')}>
          <option value="">any</option>
          {OBJECT_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="audit-object">Object</label>
        <input id="audit-object" value={f.object} onChange={set('object')} placeholder="name or id" />
      </div>
      <div className="field">
        <label htmlFor="audit-outcome">Outcome</label>
        <select id="audit-outcome" value={f.outcome} onChange={set('outcome')}>
          <option value="">any</option>
          <option value="success">success</option>
          <option value="failure">failure</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="audit-since">Since</label>
        <input id="audit-since" type="datetime-local" step={1} value={f.since} onChange={set('since')} />
      </div>
      <div className="field">
        <label htmlFor="audit-until">Until</label>
        <input id="audit-until" type="datetime-local" step={1} value={f.until} onChange={set('until')} />
      </div>
      <div className="filters-actions">
        <button type="submit" className="button button-primary">
          Apply
        </button>
        <button type="button" className="button" onClick={() => navigate('/audit')}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** `{offset: 0, length: 1048576}` → `offset=0 length=1048576`: the gist on one line. */
function detailText(detail: Record<string, unknown> | null): string {
  if (!detail) return '';
  return Object.entries(detail)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function ObjectCell({ e }: { e: AuditEntry }) {
  if (!e.objectType) return <span className="muted">–</span>;
  const label = e.objectName ?? e.objectId ?? '';
  const section = LINKED[e.objectType as keyof typeof LINKED];
  return (
    <>
      <span className="muted">{e.objectType} </span>
      {section && e.objectName ? <Link to={pathTo(section, e.objectName)}>{label}</Link> : label}
    </>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <table className="table audit-table">
      <thead>
        <tr>
          <th scope="col" className="num">
            ID
          </th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Actor</th>
          <th scope="col" className="col-source">
            Source
          </th>
          <th scope="col">Action</th>
          <th scope="col">Object</th>
          <th scope="col">Outcome</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id} className={e.outcome === 'failure' ? 'row-bad' : undefined}>
            <td className="num muted">{e.id}</td>
            <td className="nowrap">{formatTime(e.at)}</td>
            <td>{e.actor}</td>
            <td className="muted nowrap col-source">
              {e.source ?? '–'}
            </td>
            <td className="mono">{e.action}</td>
            <td className="nowrap">
              <ObjectCell e={e} />
            </td>
            <td className="nowrap">
              <StateBadge state={e.outcome} />
              {e.errorCode && (
                <>
                  {' '}
                  <code className="error-code">{e.errorCode}</code>
                </>
              )}
            </td>
            <td className="mono detail-cell" title={detailText(e.detail)}>
              {detailText(e.detail)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
