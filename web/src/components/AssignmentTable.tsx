import { useState } from 'react';
import { api } from '../api';
import { formatTime } from '../format';
import { Link, pathTo } from '../router';
import type { AssignmentInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';

interface AssignmentTableProps {
  assignments: AssignmentInfo[];
  /** On a volume's page the other side is the host, on a host's page the volume. */
  show: 'host' | 'volume';
  onRevoked: () => void;
}

export function AssignmentTable({ assignments, show, onRevoked }: AssignmentTableProps) {
  const [revoking, setRevoking] = useState<AssignmentInfo | null>(null);
  if (assignments.length === 0) {
    return <p className="empty">{show === 'host' ? 'Not assigned to any host.' : 'No volumes assigned to this host.'}</p>;
  }
  return (
    <>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{show === 'host' ? 'Host' : 'Volume'}</th>
            <th scope="col">Access</th>
            <th scope="col">Sharing</th>
            <th scope="col">Since</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {assignments.map((a) => {
            const other = show === 'host' ? a.hostName : a.volumeName;
            return (
              <tr key={a.id}>
                <td>
                  <Link to={pathTo(show === 'host' ? 'hosts' : 'volumes', other)}>{other}</Link>
                </td>
                <td>{a.access === 'rw' ? 'read-write' : 'read-only'}</td>
                <td>{a.sharing}</td>
                <td>{formatTime(a.createdAt)}</td>
                <td className="actions-cell">
                  <button type="button" className="button button-small" onClick={() => setRevoking(a)} aria-label={`Revoke ${a.hostName}'s access to ${a.volumeName}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {revoking && (
        <ConfirmDialog
          title="Revoke assignment?"
          confirmLabel="Revoke"
          onClose={() => setRevoking(null)}
          onDone={() => {
            setRevoking(null);
            onRevoked();
          }}
          onConfirm={() => api.assignments.revoke(revoking.id)}
        >
          <p>
            Host <strong>{revoking.hostName}</strong> loses its {revoking.access === 'rw' ? 'read-write' : 'read-only'} access to volume{' '}
            <strong>{revoking.volumeName}</strong>. Its sessions can no longer see the volume; the data on it stays.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
