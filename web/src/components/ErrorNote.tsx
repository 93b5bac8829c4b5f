import type { ApiError } from '../api';
import { formatSize } from '../format';

/** Byte counts in the API's message, restated in units an admin reads at a glance. */
function sizesOf(details: Record<string, unknown> | undefined): string | null {
  const asked = details?.askedBytes;
  const free = details?.freeBytes;
  if (typeof asked !== 'number' || typeof free !== 'number') return null;
  return `${formatSize(asked)} asked, ${formatSize(free)} free`;
}

/**
 * An API error next to what caused it: the message for people and the stable
 * code. The live region stays in the DOM so screen readers announce an error
 * the moment it appears.
 */
export function ErrorNote({ error }: { error: ApiError | null }) {
  const sizes = error ? sizesOf(error.details) : null;
  return (
    <div className="error-slot" aria-live="assertive" aria-atomic="true">
      {error && (
        <div className="error-note">
          <svg className="error-icon" viewBox="0 0 16 16" aria-hidden="true">
            <circle cx="8" cy="8" r="7" />
            <path d="M8 4.2v4.6M8 10.9v.9" />
          </svg>
          <div>
            <span className="error-message">{error.message}</span>
            {sizes && <span className="error-sizes"> ({sizes})</span>}{' '}
            <code className="error-code">{error.code}</code>
          </div>
        </div>
      )}
    </div>
  );
}
