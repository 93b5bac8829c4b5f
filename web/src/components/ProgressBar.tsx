import { formatSize, percent } from '../format';

interface ProgressBarProps {
  label: string;
  done: number;
  total: number;
  /** Bytes per second so far, when known. */
  rate?: number;
  tone?: 'active' | 'done' | 'failed';
}

export function ProgressBar({ label, done, total, rate, tone = 'active' }: ProgressBarProps) {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  return (
    <div className="progress">
      <div
        className={`progress-track progress-${tone}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
        aria-valuetext={`${formatSize(done)} of ${formatSize(total)}`}
      >
        <div className="progress-fill" style={{ width: `${fraction * 100}%` }} />
      </div>
      <div className="progress-text">
        <span>
          {formatSize(done)} of {formatSize(total)} ({total > 0 ? percent(done, total) : '100%'})
        </span>
        {rate !== undefined && rate > 0 && <span>{formatSize(Math.round(rate))}/s</span>}
      </div>
    </div>
  );
}
