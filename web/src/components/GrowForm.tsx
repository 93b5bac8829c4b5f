import { useState, type FormEvent } from 'react';
import { formatSizeExact, sizeText } from '../format';
import { useAction } from '../hooks';
import type { SizeValue } from '../types';
import { ErrorNote } from './ErrorNote';
import { SizeInput, type SizeValueState } from './SizeInput';

interface GrowFormProps<T> {
  /** 'volume' or 'share': names the form and its button. */
  what: string;
  /** The size now, in bytes. */
  current: number;
  /** What growing means for the clients, after "Now <size>.". */
  note: string;
  grow: (size: SizeValue) => Promise<T>;
  onGrown: (grown: T) => void;
}

/** A new size for something that only grows (a volume, a share). */
export function GrowForm<T>({ what, current, note, grow, onGrown }: GrowFormProps<T>) {
  const [size, setSize] = useState<SizeValueState>({ amount: '', unit: 'G' });
  const [invalid, setInvalid] = useState(false);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = sizeText(size.amount, size.unit);
    setInvalid(text === null);
    if (text === null) return;
    if (await action.run(async () => onGrown(await grow(text)))) setSize({ ...size, amount: '' });
  };

  return (
    <form className="form" onSubmit={submit} aria-label={`Grow ${what}`}>
      <SizeInput
        label="New size"
        required
        value={size}
        onChange={setSize}
        invalid={invalid}
        hint={invalid ? 'Give a positive number, e.g. 20 or 1.5.' : `Now ${formatSizeExact(current)}. ${note}`}
      />
      <ErrorNote error={action.error} />
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={action.busy}>
          {action.busy ? 'Growing…' : `Grow ${what}`}
        </button>
      </div>
    </form>
  );
}
