import { accessText, portText, squashText } from '../shares';
import type { ExportRuleInfo } from '../types';

interface ExportRuleTableProps {
  rules: ExportRuleInfo[];
  /** Move a rule one place up (absent on the first row). */
  onMoveUp?: (rule: ExportRuleInfo) => void;
  onRemove?: (rule: ExportRuleInfo) => void;
  /** A change is running: the row buttons wait. */
  busy?: boolean;
}

/** A share's export rules in order; the first whose clients match a caller decides for it. */
export function ExportRuleTable({ rules, onMoveUp, onRemove, busy }: ExportRuleTableProps) {
  if (rules.length === 0) return <p className="empty">No export rules: no client may mount this share. Add a rule below to let clients in.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th scope="col" className="num">
            #
          </th>
          <th scope="col">Clients</th>
          <th scope="col">Access</th>
          <th scope="col">Squash</th>
          <th scope="col">Source port</th>
          <th scope="col">Comment</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <tr key={r.id}>
            <td className="num">{r.position}</td>
            <td className="mono">{r.clients.join(', ')}</td>
            <td>{accessText(r)}</td>
            <td>{squashText(r)}</td>
            <td>{portText(r)}</td>
            <td className="truncate">{r.comment ?? <span className="muted">–</span>}</td>
            <td className="actions-cell">
              {onMoveUp && r.position > 1 && (
                <button type="button" className="button button-small" disabled={busy} onClick={() => onMoveUp(r)} aria-label={`Move rule ${r.position} up`}>
                  Up
                </button>
              )}{' '}
              {onRemove && (
                <button type="button" className="button button-small" disabled={busy} onClick={() => onRemove(r)} aria-label={`Remove rule ${r.position}`}>
                  Remove
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
