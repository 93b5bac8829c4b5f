import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../api';
import { useAction } from '../hooks';
import { EMPTY_RULE, SQUASH_CHOICES, ruleBody, type RuleFormState } from '../shares';
import type { ExportRuleInfo, Squash } from '../types';
import { ErrorNote } from './ErrorNote';

/** Add an export rule at the end of a share's list. */
export function AddRuleForm({ share, onAdded }: { share: string; onAdded: (r: ExportRuleInfo) => void }) {
  const [form, setForm] = useState<RuleFormState>(EMPTY_RULE);
  const action = useAction();
  const set = <K extends keyof RuleFormState>(k: K, v: RuleFormState[K]) => setForm((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const made = ruleBody(form);
    const ok = await action.run(async () => {
      if ('error' in made) throw new ApiError(0, 'INVALID_ARGUMENT', made.error);
      onAdded(await api.shares.rules.add(share, made.body));
    });
    if (ok) setForm(EMPTY_RULE);
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Add an export rule">
      <div className="form-row">
        <div className="field">
          <label htmlFor="rule-clients">Clients</label>
          <input
            id="rule-clients"
            className="mono"
            autoComplete="off"
            spellCheck={false}
            placeholder="10.0.0.0/8, 2001:db8::/32"
            value={form.clients}
            onChange={(e) => set('clients', e.target.value)}
            aria-describedby="rule-clients-hint"
          />
          <p className="hint" id="rule-clients-hint">
            Addresses or networks, IPv4 or IPv6, separated by commas; <code>*</code> for any client.
          </p>
        </div>
        <div className="field">
          <label htmlFor="rule-access">Access</label>
          <select id="rule-access" value={form.access} onChange={(e) => set('access', e.target.value as 'ro' | 'rw')}>
            <option value="ro">read-only</option>
            <option value="rw">read-write</option>
          </select>
        </div>
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor="rule-squash">Squash</label>
          <select id="rule-squash" value={form.squash} onChange={(e) => set('squash', e.target.value as Squash)}>
            {SQUASH_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div className="form-row">
          <div className="field">
            <label htmlFor="rule-anon-uid">Anonymous uid</label>
            <input id="rule-anon-uid" inputMode="numeric" autoComplete="off" value={form.anonUid} onChange={(e) => set('anonUid', e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="rule-anon-gid">Anonymous gid</label>
            <input id="rule-anon-gid" inputMode="numeric" autoComplete="off" value={form.anonGid} onChange={(e) => set('anonGid', e.target.value)} />
          </div>
        </div>
      </div>
      <div className="field">
        <label htmlFor="rule-comment">Comment (optional)</label>
        <input id="rule-comment" autoComplete="off" maxLength={200} value={form.comment} onChange={(e) => set('comment', e.target.value)} />
      </div>
      <label className="check">
        <input type="checkbox" checked={form.requirePrivilegedPort} onChange={(e) => set('requirePrivilegedPort', e.target.checked)} />
        <span>
          Require a privileged source port (below 1024), as Linux's <code>secure</code>.{' '}
          <span className="hint">Clear it for clients that cannot use one, such as libnfs tools run as a normal user.</span>
        </span>
      </label>
      <ErrorNote error={action.error} />
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? 'Adding…' : 'Add rule'}
        </button>
      </div>
    </form>
  );
}
