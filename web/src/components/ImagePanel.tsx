import { useEffect, useRef, useState, type FormEvent } from 'react';
import { UPLOAD_CHUNK, api, type ApiError, type TransferProgress } from '../api';
import { formatSize } from '../format';
import { asApiError } from '../hooks';
import type { VolumeInfo } from '../types';
import { ErrorNote } from './ErrorNote';
import { Flash } from './Flash';
import { ProgressBar } from './ProgressBar';

type Transfer =
  | { phase: 'idle' }
  /** Asked for, no byte moved yet (a save dialog is open, or the first request is on its way). */
  | { phase: 'starting' }
  | { phase: 'running'; progress: TransferProgress; started: number }
  | { phase: 'done'; total: number; seconds: number }
  | { phase: 'failed'; error: ApiError; progress: TransferProgress | null };

const rateOf = (p: TransferProgress, started: number) => p.done / Math.max((performance.now() - started) / 1000, 1e-3);

/** Decimal megabytes per second, as dd and curl report transfers (and the CLI). */
const mbps = (bytes: number, seconds: number) => `${(bytes / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)} MB/s`;

/** A transfer to run: it reports progress and stops when the signal aborts; false means it did not happen. */
type Run = (onProgress: (p: TransferProgress) => void, signal: AbortSignal) => Promise<unknown>;

const active = (t: Transfer) => t.phase === 'starting' || t.phase === 'running';

/**
 * One transfer at a time with its progress; Cancel aborts it. The controller
 * lives in a ref so leaving the page stops a transfer instead of orphaning it.
 */
function useTransfer(): [Transfer, (run: Run) => Promise<void>, () => void] {
  const [state, setState] = useState<Transfer>({ phase: 'idle' });
  const ctl = useRef<AbortController | null>(null);
  useEffect(() => () => ctl.current?.abort(), []);

  const start = async (run: Run) => {
    const controller = new AbortController();
    ctl.current = controller;
    setState({ phase: 'starting' });
    const started = performance.now();
    let last = null as TransferProgress | null;
    const onProgress = (progress: TransferProgress) => {
      last = progress;
      setState({ phase: 'running', progress, started });
    };
    try {
      // false: the admin closed the save dialog; nothing happened, nothing to report.
      if ((await run(onProgress, controller.signal)) === false) return setState({ phase: 'idle' });
      setState({ phase: 'done', total: last?.total ?? 0, seconds: (performance.now() - started) / 1000 });
    } catch (e) {
      setState({ phase: 'failed', error: asApiError(e), progress: last });
    } finally {
      if (ctl.current === controller) ctl.current = null;
    }
  };
  return [state, start, () => ctl.current?.abort()];
}

export function ImagePanel({ volume, onChanged }: { volume: VolumeInfo; onChanged: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [upload, startUpload, cancelUpload] = useTransfer();
  const [download, startDownload, cancelDownload] = useTransfer();
  const busy = active(upload) || active(download);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    await startUpload((onProgress, signal) => api.volumes.upload(volume, file, onProgress, signal));
    // Allocated bytes changed (or not, for zeros): show the volume as it is now.
    onChanged();
  };

  return (
    <div className="image-panel">
      <form className="form" onSubmit={submit} aria-label="Upload an image">
        <div className="field">
          <label htmlFor="image-file">Upload an image file</label>
          <input id="image-file" type="file" disabled={busy} onChange={(e) => setFile(e.target.files?.[0] ?? null)} aria-describedby="image-hint" />
          <p className="hint" id="image-hint">
            Its bytes are written from the start of the volume, over what is there, in {formatSize(UPLOAD_CHUNK)} chunks each flushed before the next.
            {file && ` ${file.name} is ${formatSize(file.size)}; the volume is ${formatSize(volume.size)}.`}
          </p>
        </div>
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={!file || busy}>
            Upload to {volume.name}
          </button>
          {active(upload) && (
            <button type="button" className="button" onClick={cancelUpload}>
              Cancel upload
            </button>
          )}
        </div>
        <TransferStatus state={upload} label="Upload" verb="Uploaded" />
      </form>
      <div className="image-download">
        <div className="button-row">
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void startDownload((onProgress, signal) => api.volumes.download(volume, onProgress, signal))}
          >
            Download image ({formatSize(volume.size)})
          </button>
          {active(download) && (
            <button type="button" className="button" onClick={cancelDownload}>
              Cancel download
            </button>
          )}
        </div>
        <TransferStatus state={download} label="Download" verb="Downloaded" />
      </div>
    </div>
  );
}

/** The bar while it runs, then how it ended; the live regions stay mounted so the outcome is announced. */
function TransferStatus({ state, label, verb }: { state: Transfer; label: string; verb: string }) {
  const bar = `${label} progress`;
  return (
    <>
      {state.phase === 'starting' && <p className="hint">Starting…</p>}
      {state.phase === 'running' && (
        <ProgressBar label={bar} done={state.progress.done} total={state.progress.total} rate={rateOf(state.progress, state.started)} />
      )}
      {state.phase === 'done' && <ProgressBar label={bar} done={state.total} total={state.total} tone="done" />}
      {state.phase === 'failed' && state.progress && (
        <ProgressBar label={bar} done={state.progress.done} total={state.progress.total} tone="failed" />
      )}
      <Flash
        message={
          state.phase === 'done' ? `${verb} ${formatSize(state.total)} in ${state.seconds.toFixed(1)} s (${mbps(state.total, state.seconds)}).` : null
        }
      />
      <ErrorNote error={state.phase === 'failed' ? state.error : null} />
    </>
  );
}
