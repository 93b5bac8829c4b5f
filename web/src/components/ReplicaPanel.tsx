import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { cycleText, everyText, promoteEffect, replicaText } from '../replication';
import { Link, pathTo } from '../router';
import type { ReplicaInfo, VolumeInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Details } from './Details';
import { ErrorNote } from './ErrorNote';
import { Panel } from './Panel';

/** What a Replica panel tells its page (a volume's or a share's). */
export interface ReplicaPanelEvents {
  /** The replica state changed (accepted, promoted): reload the page. */
  onChanged: () => void;
  onFlash: (message: string) => void;
}

type ReplicaPanelProps = ReplicaPanelEvents & { volume: VolumeInfo };

/**
 * The target side of replication on a volume's page: a replica's writer and
 * last committed cycle, and promote; on an ordinary volume, accept it as the
 * replica another gateway's host writes.
 */
export function ReplicaPanel({ volume: v, onChanged, onFlash }: ReplicaPanelProps) {
  const [promoting, setPromoting] = useState<ReplicaInfo | null>(null);
  const r = v.replica;
  return (
    <Panel title="Replica">
      {r ? (
        <>
          <p className="hint">
            Another Strata gateway writes this volume as its replica; other hosts can only be assigned it read-only. It holds the source's data as of its last
            committed cycle.
          </p>
          <ReplicaDetails replica={r} />
          <PromoteButton onClick={() => setPromoting(r)} />
        </>
      ) : (
        <SourceOrAccept
          volume={v}
          onAccepted={(name, host) => {
            onFlash(`Volume '${name}' is now the replica host '${host}' writes; create the replication on the source gateway.`);
            onChanged();
          }}
        />
      )}
      {promoting && (
        <PromoteDialog
          volume={v}
          replica={promoting}
          onClose={() => setPromoting(null)}
          onDone={() => {
            setPromoting(null);
            onFlash(`Promoted '${v.name}': it is an ordinary volume now.`);
            onChanged();
          }}
        />
      )}
    </Panel>
  );
}

/** A replica's writer, last committed cycle and consistent point: the same on a volume's page and a share's. */
export function ReplicaDetails({ replica: r }: { replica: ReplicaInfo }) {
  return (
    <Details
      items={[
        ['Written by host', r.hostName ? <Link to={pathTo('hosts', r.hostName)}>{r.hostName}</Link> : <span className="muted">a host since removed</span>],
        ['Last committed cycle', <span data-replica="cycle">{r.lastCycle === 0 ? 'none yet' : `cycle ${r.lastCycle}`}</span>],
        ['Committed at', r.lastCommitAt ? formatTime(r.lastCommitAt) : null],
        ['Consistent point', r.snapshot ? <span className="mono">{r.snapshot}</span> : null],
        ['State', replicaText(r)],
      ]}
    />
  );
}

export function PromoteButton({ onClick }: { onClick: () => void }) {
  return (
    <div className="form-inline">
      <button type="button" className="button button-danger" onClick={onClick}>
        Promote replica
      </button>
    </div>
  );
}

/** The promote confirm's line on the source host: its assignment goes, so its cycles fail from then on. */
export function WriterLoses({ replica: r, why }: { replica: ReplicaInfo; why: string }) {
  return (
    <li>
      {r.hostName ? (
        <>
          host <strong>{r.hostName}</strong> loses its read-write assignment
        </>
      ) : (
        'the source host\u2019s assignment goes'
      )}
      : {why}
    </li>
  );
}

/** Where a replication of this volume (a share's, for a share) goes, when this gateway has one: such a source is no replica candidate. */
export function ReplicatedTo({ volumeId, what, children }: { volumeId: string; what: 'volume' | 'share'; children: ReactNode }) {
  const replications = useLoad(`replications:${volumeId}`, async (signal) => (await api.replications.list(signal)).filter((r) => r.volume.id === volumeId));
  const [source] = replications.data ?? [];
  if (!replications.data && !replications.error) return null;
  if (source) {
    return (
      <p data-replica="source">
        This {what} is replicated to {what === 'share' ? 'share ' : ''}
        <span className="mono">{source.targetVolume}</span> on <span className="mono">{source.target}</span> ({everyText(source)}; last good cycle: {cycleText(source)}): see the{' '}
        <Link to="/replication">Replication page</Link>.
      </p>
    );
  }
  return <>{children}</>;
}

/** The hosts registered on this gateway, one of which is the source gateway's replication key. */
export function SourceHostField({ id, value, onChange }: { id: string; value: string; onChange: (host: string) => void }) {
  const hosts = useLoad('replica:hosts', (signal) => api.hosts.list(signal));
  return (
    <div className="field">
      <label htmlFor={id}>Source gateway's host</label>
      <select id={id} required value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Choose a host…</option>
        {(hosts.data ?? []).map((h) => (
          <option key={h.id} value={h.name}>
            {h.name}
          </option>
        ))}
      </select>
      <ErrorNote error={hosts.error} />
    </div>
  );
}

/** A volume this gateway replicates elsewhere is a source, not a replica candidate: say where it goes instead of offering accept. */
function SourceOrAccept({ volume: v, onAccepted }: { volume: VolumeInfo; onAccepted: (volume: string, host: string) => void }) {
  return (
    <ReplicatedTo volumeId={v.id} what="volume">
      <AcceptReplicaForm volume={v} onAccepted={onAccepted} />
    </ReplicatedTo>
  );
}

function AcceptReplicaForm({ volume: v, onAccepted }: { volume: VolumeInfo; onAccepted: (volume: string, host: string) => void }) {
  const [host, setHost] = useState('');
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      const accepted = await api.replicas.accept(v.id, host);
      onAccepted(accepted.name, host);
    });
  };
  return (
    <>
      <p className="hint">
        Make this volume the replica of a volume on another gateway: pick the host registered with that gateway's replication key (its Replication page shows
        it). The host gets read-write access; every other host only read-only. A volume another host writes cannot be accepted.
      </p>
      <form className="form form-inline" onSubmit={submit} aria-label="Accept as replica">
        <SourceHostField id="replica-host" value={host} onChange={setHost} />
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? 'Accepting…' : 'Accept as replica'}
        </button>
        <ErrorNote error={action.error} />
      </form>
    </>
  );
}

/** Says what promoting rolls back and whose writes stop; force only when there is no committed cycle, and then it says so. */
function PromoteDialog({ volume: v, replica: r, onClose, onDone }: { volume: VolumeInfo; replica: ReplicaInfo; onClose: () => void; onDone: () => void }) {
  const effect = promoteEffect(r);
  return (
    <ConfirmDialog
      title={`Promote replica ${v.name}?`}
      confirmLabel={effect.force ? 'Promote anyway' : 'Promote'}
      onClose={onClose}
      onDone={onDone}
      onConfirm={() => api.replicas.promote(v.id, effect.force)}
    >
      <p>The volume becomes an ordinary volume that hosts may write. This cannot be undone:</p>
      <ul className="loss-list">
        <li>{effect.rollback}</li>
        <WriterLoses replica={r} why="cycles from the source fail (NOT_REPLICA) until its replication is removed there" />
      </ul>
    </ConfirmDialog>
  );
}
