import type { Action } from '../hooks';
import { ErrorNote } from './ErrorNote';

interface FormActionsProps {
  /** The form's submit, whose error shows above the buttons. */
  action: Action;
  onCancel: () => void;
  /** The submit button's text, and its text while the action runs. */
  label: string;
  busyLabel: string;
  /** Holds the submit back beyond the running action (e.g. nothing chosen yet). */
  disabled?: boolean;
}

/** The foot of a dialog's form: the submit's error, then Cancel and the submit button. */
export function FormActions({ action, onCancel, label, busyLabel, disabled }: FormActionsProps) {
  return (
    <>
      <ErrorNote error={action.error} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={action.busy || disabled}>
          {action.busy ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
