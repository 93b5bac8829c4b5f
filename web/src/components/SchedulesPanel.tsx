import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { formatTime } from '../format';
import { useAction, useLoad } from '../hooks';
import { intervalText, scheduleText } from '../snapshots';
import type { ScheduleUnit, SnapshotScheduleInfo, VolumeInfo } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorNote } from './ErrorNote';
import { Panel } from './Panel';

/** What a schedule snapshots: a block volume, or a share (by its volume's id, which the schedule names; by the share's name for people). */
type Subject = Pick<VolumeInfo, 'id' | 'name'>;

/** A volume's or share's snapshot schedules: every N minutes/hours/days, keep the last K; add and remove. */
export function SchedulesPanel({ volume: v, onFlash }: { volume: Subject; onFlash: (message: string) => void }) {
  // The API lists every schedule (volumes' and groups'); there are few, so this volume's are picked here.
  const schedules = useLoad(`schedules:${v.id}`, async (signal) => (await api.schedules.list(signal)).filter((s) => s.volume?.id === v.id));
  const [removing, setRemoving] = useState<SnapshotScheduleInfo | null>(null);
  const list = schedules.data ?? [];

  return (
    <Panel title={`Snapshot schedules (${list.length})`}>
      <ErrorNote error={schedules.error} />
      {schedules.data && list.length === 0 && <p className="empty">No schedules: snapshots are taken only by hand.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">When</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id} data-schedule={s.name}>
                  <td className="strong">{s.name}</td>
                  <td>{scheduleText(s)}</td>
                  <td className="nowrap">{formatTime(s.nextRunAt)}</td>
                  <td>
                    {s.lastRunAt ? formatTime(s.lastRunAt) : <span className="muted">not yet</span>}
                    {s.lastError && <div className="text-bad">{s.lastError}</div>}
                  </td>
                  <td className="actions-cell">
                    <button type="button" className="button button-small" onClick={() => setRemoving(s)} aria-label={`Remove schedule ${s.name}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3 className="subhead">Add a schedule</h3>
      <AddScheduleForm
        volume={v}
        onAdded={(s) => {
          onFlash(`Schedule '${s.name}' snapshots '${v.name}' ${scheduleText(s)}; first run ${formatTime(s.nextRunAt)}.`);
          schedules.reload();
        }}
      />
      {removing && (
        <ConfirmDialog
          title={`Remove schedule ${removing.name}?`}
          confirmLabel="Remove schedule"
          onClose={() => setRemoving(null)}
          onConfirm={() => api.schedules.remove(removing.id)}
          onDone={() => {
            setRemoving(null);
            onFlash(`Removed schedule '${removing.name}'.`);
            schedules.reload();
          }}
        >
          <p>
            No more snapshots of {v.name} {intervalText(removing)}. The snapshots it took stay, as ordinary snapshots nobody prunes.
          </p>
        </ConfirmDialog>
      )}
    </Panel>
  );
}

function AddScheduleForm({ volume: v, onAdded }: { volume: Subject; onAdded: (s: SnapshotScheduleInfo) => void }) {
  const [name, setName] = useState('');
  const [every, setEvery] = useState('1');
  const [unit, setUnit] = useState<ScheduleUnit>('hours');
  const [keep, setKeep] = useState('24');
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // The API checks the ranges and says which field is wrong; numbers go as numbers.
    const ok = await action.run(async () => onAdded(await api.schedules.create({ name: name.trim(), volume: v.id, every: Number(every), unit, keep: Number(keep) })));
    if (ok) setName('');
  };

  return (
    <form className="form form-inline" onSubmit={submit} aria-label="Add a schedule">
      <div className="field">
        <label htmlFor="schedule-name">Name</label>
        <input id="schedule-name" required autoComplete="off" placeholder="hourly" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="schedule-every">Every</label>
        <input id="schedule-every" type="number" required min={1} step={1} value={every} onChange={(e) => setEvery(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="schedule-unit">Unit</label>
        <select id="schedule-unit" value={unit} onChange={(e) => setUnit(e.target.value as ScheduleUnit)}>
          <option value="minutes">minutes</option>
          <option value="hours">hours</option>
          <option value="days">days</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="schedule-keep">Keep the last</label>
        <input id="schedule-keep" type="number" required min={1} step={1} value={keep} onChange={(e) => setKeep(e.target.value)} />
      </div>
      <button type="submit" className="button button-primary" disabled={action.busy}>
        {action.busy ? 'Adding…' : 'Add schedule'}
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
