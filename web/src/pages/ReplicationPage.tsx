import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { CopyButton } from '../components/CopyButton';
import { Details } from '../components/Details';
import { Dialog } from '../components/Dialog';
import { ErrorNote } from '../components/ErrorNote';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { Panel } from '../components/Panel';
import { StateBadge } from '../components/StateBadge';
import { formatSize, formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { cycleText, everyInput, everyText, lagText, rateInput, rateLimitText, sourceName, sourceText } from '../replication';
import { Link, pathTo } from '../router';
import type { CreateReplicationBody, ReplicationInfo } from '../types';

/** How often the list is polled: a running cycle's state, lag and bytes sent move without a reload. */
const REFRESH_MS = 2000;

export function ReplicationPage() {
  const replications = useLoad('replications', (signal) => api.replications.list(signal), REFRESH_MS);
  return (
    <ListPage
      title="Replication"
      subtitle="Volumes and shares copied in cycles to volumes and shares on other Strata gateways: only changed pages after the first full copy, each cycle from a snapshot"
      createLabel="Create replication"
      list={replications}
      table={(items, done) => (
        <>
          <IdentityPanel />
          <ReplicationTable replications={items} done={done} />
        </>
      )}
      dialog={(close, created) => (
        <CreateReplicationDialog
          onClose={close}
          onCreated={(r) => created(`Created the replication of ${sourceText(r)} to ${r.share ? 'share ' : ''}${r.targetVolume} on ${r.target}; run a cycle to make the first full copy.`)}
        />
      )}
    />
  );
}

/** This gateway's replication key, and the line that registers it on a target. */
function IdentityPanel() {
  const identity = useLoad('replication:identity', (signal) => api.replications.identity(signal));
  const id = identity.data;
  return (
    <Panel title="This gateway's replication identity">
      <p className="hint">
        A target accepts cycles from this gateway once this key is registered there as a host (then, on the target, the replica volume or share is accepted for that host).
      </p>
      <ErrorNote error={identity.error} />
      {id && (
        <Details
          items={[
            [
              'Public key',
              <span className="copyable">
                <span className="mono wrap" data-identity="public-key">
                  {id.publicKey}
                </span>{' '}
                <CopyButton text={id.publicKey} label="Copy public key" />
              </span>,
            ],
            ['Fingerprint', <span className="mono">{id.fingerprint}</span>],
            ['Host name', <span className="mono">{id.hostName}</span>],
            [
              'On the target',
              <span className="copyable">
                <span className="mono wrap" data-identity="register">
                  {id.register}
                </span>{' '}
                <CopyButton text={id.register} label="Copy host add command" />
              </span>,
            ],
          ]}
        />
      )}
    </Panel>
  );
}

type Pending = { kind: 'remove' | 'change'; replication: ReplicationInfo };

export function ReplicationTable({ replications, done }: { replications: ReplicationInfo[]; done: (message: string) => void }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const running = useAction();
  const run = (r: ReplicationInfo) =>
    void running.run(async () => {
      const view = await api.replications.run(r.id);
      done(`Started a cycle of ${sourceText(r)} to ${r.targetVolume} on ${r.target}${view.job ? ` (job ${view.job.id.slice(0, 8)})` : ''}.`);
    });
  return (
    <>
      <ErrorNote error={running.error} />
      <ListTable
        empty="No replications yet: register this gateway's key on the target, accept a replica volume or share there, then create a replication here."
        count={replications.length}
        head={
          <>
            <th scope="col">Source</th>
            <th scope="col">Target</th>
            <th scope="col">Replica</th>
            <th scope="col">Schedule</th>
            <th scope="col">Last good cycle</th>
            <th scope="col">Lag</th>
            <th scope="col" className="num">
              Sent
            </th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
      >
        {replications.map((r) => (
          <tr key={r.id} data-replication={sourceName(r)}>
            <td className="strong nowrap">
              {r.share ? (
                <>
                  <Link to={pathTo('shares', r.share.name)}>{r.share.name}</Link> <StateBadge state="share" />
                </>
              ) : (
                <Link to={pathTo('volumes', r.volume.name)}>{r.volume.name}</Link>
              )}
            </td>
            <td className="mono nowrap">
              {r.target}
              <div className="muted">as host {r.hostName}</div>
            </td>
            <td className="mono">
              {r.targetVolume}
              {r.share && <div className="muted">a share</div>}
            </td>
            <td>
              {everyText(r)}
              <div className="muted">
                {rateLimitText(r)}
                {r.nextRunAt && <>, next {formatTime(r.nextRunAt)}</>}
              </div>
            </td>
            <td className="nowrap" data-cell="cycle">
              {cycleText(r)}
            </td>
            <td className="nowrap" data-cell="lag">
              {lagText(r)}
            </td>
            <td className="num nowrap" data-cell="sent">
              {formatSize(r.bytesSent)}
            </td>
            <td data-cell="state">
              {r.activeJobId ? (
                <Link to="/jobs">cycle running</Link>
              ) : r.lastError ? (
                <span className="text-bad">{r.lastError}</span>
              ) : (
                <span className="muted">idle</span>
              )}
            </td>
            <td className="actions-cell">
              {/* Stacked, not side by side: in one line they pushed a share's row past a 1280 px window. */}
              <div className="row-actions">
                <button type="button" className="button button-small" disabled={running.busy || !!r.activeJobId} onClick={() => run(r)} aria-label={`Run a cycle of ${sourceName(r)} now`}>
                  Run now
                </button>{' '}
                <button type="button" className="button button-small" onClick={() => setPending({ kind: 'change', replication: r })} aria-label={`Change schedule of ${sourceName(r)}`}>
                  Change
                </button>{' '}
                <button type="button" className="button button-small" onClick={() => setPending({ kind: 'remove', replication: r })} aria-label={`Remove replication of ${sourceName(r)}`}>
                  Remove
                </button>
              </div>
            </td>
          </tr>
        ))}
      </ListTable>
      {pending?.kind === 'change' && (
        <ChangeDialog
          replication={pending.replication}
          onClose={() => setPending(null)}
          onChanged={(r) => {
            setPending(null);
            done(`The replication of ${sourceText(r)} now runs ${everyText(r)}, ${rateLimitText(r)}.`);
          }}
        />
      )}
      {pending?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove the replication of ${sourceName(pending.replication)}?`}
          confirmLabel="Remove replication"
          onClose={() => setPending(null)}
          onConfirm={() => api.replications.remove(pending.replication.id)}
          onDone={() => {
            setPending(null);
            done(`Removed the replication of ${sourceText(pending.replication)}.`);
          }}
        >
          <p>
            No more cycles of {pending.replication.share ? 'share ' : ''}
            {sourceName(pending.replication)} go to {pending.replication.target}. This loses:
          </p>
          <ul className="loss-list">
            {pending.replication.activeJobId && <li>the cycle running now, cancelled</li>}
            <li>
              the <span className="mono">repl-</span> {pending.replication.share ? 'share snapshots' : 'snapshots'} of {sourceName(pending.replication)} that cycles start from
              {pending.replication.share && (
                <>
                  {' '}
                  (clients see them under <span className="mono">/.snapshots/</span>)
                </>
              )}
              : a new replication starts with a full copy
            </li>
          </ul>
          <p className="muted">
            The replica {pending.replication.share ? 'share ' : ''}
            {pending.replication.targetVolume} on the target keeps its last committed cycle ({cycleText(pending.replication)}); promote it there to use it.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateReplicationDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (r: ReplicationInfo) => void }) {
  // Block volumes only: the default list is just those; shares come from their own list.
  const volumes = useLoad('replication:volumes', (signal) => api.volumes.list(undefined, signal));
  const shares = useLoad('replication:shares', (signal) => api.shares.list(signal));
  const identity = useLoad('replication:identity', (signal) => api.replications.identity(signal));
  /** `volume:<name>` or `share:<id>`: a block volume and a share may have the same name. */
  const [source, setSource] = useState('');
  const share = source.startsWith('share:') ? (shares.data ?? []).find((s) => s.id === source.slice(6)) : undefined;
  const [target, setTarget] = useState('');
  const [targetVolume, setTargetVolume] = useState('');
  const [hostName, setHostName] = useState('');
  const [every, setEvery] = useState('');
  const [rate, setRate] = useState('');
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Blank optional fields are left out: the gateway's defaults (its host name, on demand, no limit) apply.
    // A share by its id: the API looks a name up as a volume's first.
    const body: CreateReplicationBody = { volume: source.replace(/^(volume|share):/, ''), target: target.trim(), targetVolume: targetVolume.trim() };
    if (hostName.trim()) body.hostName = hostName.trim();
    if (every.trim()) body.every = every.trim();
    if (rate.trim()) body.rateLimit = rate.trim();
    await action.run(async () => onCreated(await api.replications.create(body)));
  };

  return (
    <Dialog title="Create replication" onClose={onClose} wide>
      <form className="form dialog-body" onSubmit={submit} aria-label="Create replication">
        <div className="field">
          <label htmlFor="repl-volume">Volume or share</label>
          <select id="repl-volume" required value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">Choose a volume or share…</option>
            {!!volumes.data?.length && (
              <optgroup label="Volumes">
                {volumes.data.map((v) => (
                  <option key={v.id} value={`volume:${v.name}`}>
                    {v.name} ({formatSize(v.size)})
                  </option>
                ))}
              </optgroup>
            )}
            {!!shares.data?.length && (
              <optgroup label="Shares">
                {shares.data.map((s) => (
                  <option key={s.id} value={`share:${s.id}`} disabled={!!s.replica || !!s.restoringFrom}>
                    {s.name} ({formatSize(s.size)}){s.replica ? ', a replica' : s.restoringFrom ? ', restoring' : ''}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
          <ErrorNote error={volumes.error ?? shares.error} />
          {share && <p className="hint">Each cycle copies the share's volume and its file metadata, from a share snapshot repl-&lt;n&gt; (clients see it under /.snapshots/).</p>}
        </div>
        <div className="field">
          <label htmlFor="repl-target">Target gateway</label>
          <input id="repl-target" required autoComplete="off" placeholder="10.0.0.2:7700" value={target} onChange={(e) => setTarget(e.target.value)} />
          <p className="hint">The target's SAN address, host[:port] (port 7700 when left out); UDP to it must be open.</p>
        </div>
        <div className="field">
          <label htmlFor="repl-target-volume">{share ? 'Target share' : 'Target volume'}</label>
          <input id="repl-target-volume" required autoComplete="off" placeholder={share ? `${share.name}-replica` : 'db-replica'} value={targetVolume} onChange={(e) => setTargetVolume(e.target.value)} />
          <p className="hint">
            {share
              ? `A share at least this share's size (${formatSize(share.size)}), accepted on the target as the replica this gateway's host writes; it is not served there until promoted.`
              : "At least this volume's size, accepted on the target as the replica this gateway's host writes."}
          </p>
        </div>
        <div className="field">
          <label htmlFor="repl-host">Host name on the target</label>
          <input id="repl-host" autoComplete="off" placeholder={identity.data?.hostName ?? ''} value={hostName} onChange={(e) => setHostName(e.target.value)} />
          <p className="hint">The name the target registered this gateway's key under; blank: {identity.data ? <span className="mono">{identity.data.hostName}</span> : 'this machine\u2019s host name'}.</p>
        </div>
        <div className="field">
          <label htmlFor="repl-every">Every</label>
          <input id="repl-every" autoComplete="off" placeholder="15m" value={every} onChange={(e) => setEvery(e.target.value)} />
          <p className="hint">A cycle this often (30s, 15m, 1h, 1d) when none is running; blank: only when run by hand.</p>
        </div>
        <div className="field">
          <label htmlFor="repl-rate">Rate limit</label>
          <input id="repl-rate" autoComplete="off" placeholder="50M" value={rate} onChange={(e) => setRate(e.target.value)} />
          <p className="hint">Bytes per second a cycle may send (50M is 50 MiB/s); blank: no limit.</p>
        </div>
        <FormActions action={action} onCancel={onClose} label="Create replication" busyLabel="Creating…" />
      </form>
    </Dialog>
  );
}

/** The schedule and the bandwidth limit, changed in place: a running cycle keeps its limit, the next one uses the new. */
function ChangeDialog({ replication: r, onClose, onChanged }: { replication: ReplicationInfo; onClose: () => void; onChanged: (r: ReplicationInfo) => void }) {
  const [every, setEvery] = useState(everyInput(r));
  const [rate, setRate] = useState(rateInput(r));
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Blank means none: no schedule (on demand), no limit.
    await action.run(async () => onChanged(await api.replications.update(r.id, { every: every.trim() || null, rateLimit: rate.trim() || 0 })));
  };
  return (
    <Dialog title={`Change the replication of ${sourceName(r)}`} onClose={onClose}>
      <form className="form dialog-body" onSubmit={submit} aria-label="Change replication">
        <div className="field">
          <label htmlFor="repl-change-every">Every</label>
          <input id="repl-change-every" autoComplete="off" placeholder="15m" value={every} onChange={(e) => setEvery(e.target.value)} />
          <p className="hint">30s, 15m, 1h, 1d; blank: only when run by hand. Now {everyText(r)}.</p>
        </div>
        <div className="field">
          <label htmlFor="repl-change-rate">Rate limit</label>
          <input id="repl-change-rate" autoComplete="off" placeholder="50M" value={rate} onChange={(e) => setRate(e.target.value)} />
          <p className="hint">Bytes per second (50M is 50 MiB/s); blank: no limit. Now {rateLimitText(r)}; a running cycle keeps it, the next one uses the new.</p>
        </div>
        <FormActions action={action} onCancel={onClose} label="Save" busyLabel="Saving…" />
      </form>
    </Dialog>
  );
}
