import { useId } from 'react';
import { SIZE_UNITS, type SizeUnit } from '../format';

export interface SizeValueState {
  amount: string;
  unit: SizeUnit;
}

interface SizeInputProps {
  label: string;
  value: SizeValueState;
  onChange: (v: SizeValueState) => void;
  required?: boolean;
  hint?: string;
  invalid?: boolean;
}

/** A size as a number and a binary unit; the API reads the pair as text like '1.5G'. */
export function SizeInput({ label, value, onChange, required, hint, invalid }: SizeInputProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="size-input">
        <input
          id={id}
          inputMode="decimal"
          autoComplete="off"
          value={value.amount}
          required={required}
          aria-invalid={invalid || undefined}
          aria-describedby={hint ? hintId : undefined}
          onChange={(e) => onChange({ ...value, amount: e.target.value })}
        />
        <select aria-label={`${label} unit`} value={value.unit} onChange={(e) => onChange({ ...value, unit: e.target.value as SizeUnit })}>
          {SIZE_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.label}
            </option>
          ))}
        </select>
      </div>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}
