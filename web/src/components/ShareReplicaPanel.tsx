import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { formatSize } from '../format';
import { sharePromoteEffect } from '../replication';
import type { ReplicaInfo, ShareInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { Panel } from './Panel';
import { PromoteButton, ReplicaDetails, ReplicatedTo, SourceHostField, WriterLoses, type ReplicaPanelEvents } from './ReplicaPanel';


/**
 * The target side of replication on a share's page: a replica share is
 * written by another gateway and not served until promoted; an ordinary one
 * can be accepted as such a replica.
 */
export function ShareReplicaPanel({ share: s, onChanged, onFlash }: ReplicaPanelEvents & { share: ShareInfo }) {
  const [promoting, setPromoting] = useState<ReplicaInfo | null>(null);
  const r = s.replica;
  return (
    <Panel title="Replica">
      {r ? (
        <>
          <p className="hint" data-replica="not-served">
            Another Strata gateway writes this share as its replica, its files and their metadata each cycle. It is not served: NFS clients cannot mount it until it
            is promoted.
          </p>
          <ReplicaDetails replica={r} />
          <PromoteButton onClick={() => setPromoting(r)} />
        </>
      ) : (
        <ReplicatedTo volumeId={s.volumeId} what="share">
          <AcceptShareForm
            share={s}
            onAccepted={(host) => {
              onFlash(`Share '${s.name}' is now the replica host '${host}' writes, and is not served; create the replication on the source gateway.`);
              onChanged();
            }}
          />
        </ReplicatedTo>
      )}
      {promoting && (
        <ConfirmPromote
          share={s}
          replica={promoting}
          onClose={() => setPromoting(null)}
          onDone={() => {
            setPromoting(null);
            onFlash(`Promoted '${s.name}': it is an ordinary share now, served with its export rules.`);
            onChanged();
          }}
        />
      )}
    </Panel>
  );
}

/** Accepting stops serving the share at once, so the confirm says so; its files are replaced only when the admin ticks the box. */
export function AcceptShareForm({ share: s, onAccepted }: { share: ShareInfo; onAccepted: (host: string) => void }) {
  const [host, setHost] = useState('');
  const [force, setForce] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const holdsData = s.allocatedBytes > 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setConfirming(true);
  };
  return (
    <>
      <p className="hint">
        Make this share the replica of a share on another gateway: pick the host registered with that gateway's replication key (its Replication page shows it).
        From then on the share is not served until it is promoted.
      </p>
      <form className="form form-inline" onSubmit={submit} aria-label="Accept as replica">
        <SourceHostField id="share-replica-host" value={host} onChange={setHost} />
        {holdsData && (
          <label className="check">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Replace its files ({formatSize(s.allocatedBytes)})
          </label>
        )}
        <button type="submit" className="button button-primary" disabled={holdsData && !force}>
          Accept as replica
        </button>
      </form>
      {holdsData && !force && (
        <p className="hint text-warn" data-replica="holds-data">
          This share holds {formatSize(s.allocatedBytes)} of file data: the source's copy would replace it. Tick "Replace its files", or use a new share.
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Accept share ${s.name} as a replica?`}
          confirmLabel="Accept as replica"
          onClose={() => setConfirming(false)}
          onConfirm={() => api.replicas.accept(s.volumeId, host, force)}
          onDone={() => {
            setConfirming(false);
            onAccepted(host);
          }}
        >
          <p>
            Host <strong>{host}</strong> writes the share from now on. Until it is promoted:
          </p>
          <ul className="loss-list">
            <li>it stops being served: NFS clients cannot mount {s.path}, and those that have it mounted get stale handles</li>
            {holdsData && <li>its files ({formatSize(s.allocatedBytes)}) are replaced by the source's copy at the first cycle</li>}
            <li>
              {s.rules.length === 0
                ? 'it has no export rules; add them before promoting to let clients mount it'
                : s.rules.length === 1
                  ? 'its export rule stays, and applies once it is promoted'
                  : `its ${s.rules.length} export rules stay, and apply once it is promoted`}
            </li>
          </ul>
        </ConfirmDialog>
      )}
    </>
  );
}

export function ConfirmPromote({ share: s, replica: r, onClose, onDone }: { share: ShareInfo; replica: ReplicaInfo; onClose: () => void; onDone: () => void }) {
  const effect = sharePromoteEffect(r, s.rules.length);
  return (
    <ConfirmDialog
      title={`Promote replica share ${s.name}?`}
      confirmLabel={effect.force ? 'Promote anyway' : 'Promote'}
      onClose={onClose}
      onDone={onDone}
      onConfirm={() => api.replicas.promote(s.volumeId, effect.force)}
    >
      <p>The share becomes an ordinary share that clients may write. This cannot be undone:</p>
      <ul className="loss-list">
        <li>{effect.rollback}</li>
        <li>{effect.served}</li>
        <WriterLoses replica={r} why="cycles from the source fail until its replication is removed there" />
      </ul>
    </ConfirmDialog>
  );
}
