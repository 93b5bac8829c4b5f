import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { AssignForm } from '../components/AssignForm';
import { AssignmentTable } from '../components/AssignmentTable';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Details } from '../components/Details';
import { ErrorNote } from '../components/ErrorNote';
import { Flash } from '../components/Flash';
import { DetailHeader } from '../components/DetailHeader';
import { Panel } from '../components/Panel';
import { formatTime, plural } from '../format';
import { useAction, useLoad } from '../hooks';
import { navigate } from '../router';
import type { HostInfo, HostSecurity } from '../types';
import { SecurityField } from './HostsPage';

export function HostPage({ name }: { name: string }) {
  const host = useLoad(`host:${name}`, (signal) => api.hosts.get(name, signal));
  const [flash, setFlash] = useState<string | null>(null);
  const [removing, setRemoving] = useState<HostInfo | null>(null);
  // Like a volume's delete: the dialog names the assignments that exist now.
  const opening = useAction();
  const h = host.data;

  return (
    <>
      <DetailHeader
        title={h?.name ?? name}
        crumb={{ label: 'Hosts', to: '/hosts' }}
        remove={
          h && {
            label: 'Remove host',
            disabled: opening.busy,
            onClick: () => void opening.run(async () => setRemoving(await api.hosts.get(h.id))),
          }
        }
      />
      <Flash message={flash} />
      <ErrorNote error={host.error ?? opening.error} />
      {h && (
        <>
          <Panel title="Properties">
            <Details
              items={[
                ['Fingerprint', <span className="mono">{h.keyFingerprint}</span>],
                ['Public key', <span className="mono wrap">{h.publicKey}</span>],
                ['SAN security', <span data-security={h.security}>{h.security === 'integrity' ? 'integrity (may send data in clear, authenticated)' : 'encrypt'}</span>],
                ['Description', h.description],
                ['ID', <span className="mono">{h.id}</span>],
                ['Registered', formatTime(h.createdAt)],
              ]}
            />
            <SecurityForm host={h} onChanged={(u) => {
              setFlash(u.security === 'integrity' ? `Host '${u.name}' may now send its SAN data in clear, authenticated, when it asks to.` : `Host '${u.name}' must encrypt: its integrity-only sessions must log in again.`);
              host.reload();
            }} />
          </Panel>
          <Panel title={`Assignments (${h.assignments.length})`}>
            <AssignmentTable assignments={h.assignments} show="volume" onRevoked={host.reload} />
            <h3 className="subhead">Assign a volume</h3>
            <AssignForm
              fixed={{ host: h.name }}
              taken={h.assignments.map((a) => a.volumeName)}
              onAssigned={(a) => {
                setFlash(`Assigned volume '${a.volumeName}' to host '${a.hostName}' (${a.access}, ${a.sharing}).`);
                host.reload();
              }}
            />
          </Panel>
        </>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove host ${removing.name}?`}
          confirmLabel={removing.assignments.length ? `Revoke ${plural(removing.assignments.length, 'assignment')} and remove` : 'Remove host'}
          onClose={() => setRemoving(null)}
          onDone={() => navigate('/hosts')}
          onConfirm={() => api.hosts.remove(removing.id, removing.assignments.length > 0)}
        >
          <p>
            The gateway forgets host <strong>{removing.name}</strong> and its key <span className="mono">{removing.keyFingerprint}</span>: it can no longer
            log in.
          </p>
          {removing.assignments.length > 0 ? (
            <p>
              Its {plural(removing.assignments.length, 'assignment')} will be revoked:{' '}
              {removing.assignments.map((a, i) => (
                <span key={a.id}>
                  {i > 0 && ', '}
                  <strong>{a.volumeName}</strong> ({a.access}, {a.sharing})
                </span>
              ))}
              . The volumes and their data stay.
            </p>
          ) : (
            <p>No volumes are assigned to it.</p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

/** Change what the host's SAN sessions must use; switching to encrypt ends its integrity-only sessions at their next call. */
function SecurityForm({ host: h, onChanged }: { host: HostInfo; onChanged: (h: HostInfo) => void }) {
  const [security, setSecurity] = useState<HostSecurity>(h.security);
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => onChanged(await api.hosts.setSecurity(h.id, security)));
  };
  return (
    <form className="form form-inline" onSubmit={submit} aria-label="SAN security">
      <SecurityField value={security} onChange={setSecurity} />
      <button type="submit" className="button" disabled={action.busy || security === h.security}>
        {action.busy ? 'Saving…' : 'Save'}
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
