import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { Dialog } from '../components/Dialog';
import { FormActions } from '../components/FormActions';
import { ListPage, ListTable } from '../components/ListPage';
import { formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { Link, pathTo } from '../router';
import type { HostInfo, HostSecurity } from '../types';

export function HostsPage() {
  const hosts = useLoad('hosts', (signal) => api.hosts.list(signal));
  return (
    <ListPage
      title="Hosts"
      subtitle="SAN clients, known by their Ed25519 public key"
      createLabel="Register host"
      list={hosts}
      table={(items) => <HostTable hosts={items} />}
      dialog={(close, created) => <RegisterHostDialog onClose={close} onAdded={(h) => created(`Registered host '${h.name}' (${h.keyFingerprint}).`)} />}
    />
  );
}

function HostTable({ hosts }: { hosts: HostInfo[] }) {
  return (
    <ListTable
      empty="No hosts yet: register one with the public key from strata-client keygen."
      count={hosts.length}
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Key fingerprint</th>
          <th scope="col">Volumes</th>
          <th scope="col">Description</th>
          <th scope="col">Registered</th>
        </>
      }
    >
      {hosts.map((h) => (
        <tr key={h.id}>
          <td>
            <Link to={pathTo('hosts', h.name)} className="strong">
              {h.name}
            </Link>
          </td>
          <td className="mono nowrap">{h.keyFingerprint}</td>
          <td>
            {h.assignments.length === 0 ? (
              <span className="muted">none</span>
            ) : (
              h.assignments.map((a, i) => (
                <span key={a.id}>
                  {i > 0 && ', '}
                  <Link to={pathTo('volumes', a.volumeName)}>{a.volumeName}</Link>
                  {a.access === 'ro' && <span className="muted"> (ro)</span>}
                </span>
              ))
            )}
          </td>
          <td className="truncate">{h.description ?? <span className="muted">–</span>}</td>
          <td>{formatTime(h.createdAt)}</td>
        </tr>
      ))}
    </ListTable>
  );
}

function RegisterHostDialog({ onClose, onAdded }: { onClose: () => void; onAdded: (h: HostInfo) => void }) {
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [description, setDescription] = useState('');
  const [security, setSecurity] = useState<HostSecurity>('encrypt');
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = { name: name.trim(), publicKey: publicKey.trim(), security, ...(description.trim() && { description: description.trim() }) };
    await action.run(async () => onAdded(await api.hosts.create(body)));
  };

  return (
    <Dialog title="Register host" onClose={onClose} wide>
      <form className="form dialog-body" onSubmit={submit} aria-label="Register host">
        <div className="field">
          <label htmlFor="host-name">Name</label>
          <input id="host-name" required autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="host-key">Public key</label>
          <textarea
            id="host-key"
            className="mono"
            required
            rows={4}
            spellCheck={false}
            placeholder="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… host@example"
            value={publicKey}
            onChange={(e) => setPublicKey(e.target.value)}
            aria-describedby="host-key-hint"
          />
          <p className="hint" id="host-key-hint">
            Paste what <code>strata-client keygen</code> printed on the host: one line, <code>ssh-ed25519</code>, the key, an optional comment.
          </p>
        </div>
        <div className="field">
          <label htmlFor="host-description">Description (optional)</label>
          <input id="host-description" autoComplete="off" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <SecurityField value={security} onChange={setSecurity} />
        <FormActions action={action} onCancel={onClose} label="Register host" busyLabel="Registering…" />
      </form>
    </Dialog>
  );
}

/** The host's SAN security: encryption by default; integrity-only is for hosts on a network the admin trusts. */
export function SecurityField({ value, onChange }: { value: HostSecurity; onChange: (s: HostSecurity) => void }) {
  return (
    <div className="field">
      <label htmlFor="host-security">SAN security</label>
      <select id="host-security" value={value} onChange={(e) => onChange(e.target.value as HostSecurity)} aria-describedby="host-security-hint">
        <option value="encrypt">encrypt (default)</option>
        <option value="integrity">integrity: data in clear, authenticated</option>
      </select>
      <p className="hint" id="host-security-hint">
        With <code>integrity</code> the host may send its volume data unencrypted but still authenticated, for about a third of the CPU, when it asks for it (
        <code>strata-client login --security integrity</code>). Only for networks where nobody else can read the traffic.
      </p>
    </div>
  );
}
