import type { ReactNode } from 'react';
import { useAction } from '../hooks';
import { Dialog } from './Dialog';
import { ErrorNote } from './ErrorNote';

interface ConfirmDialogProps {
  title: string;
  /** What will be lost, in words. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  /** After a successful confirm: usually leave the page of what is gone. */
  onDone: () => void;
}

/** A destructive step, named before it is taken; Cancel has the focus so Enter does no harm. */
export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose, onDone }: ConfirmDialogProps) {
  const action = useAction();
  const confirm = async () => {
    if (await action.run(onConfirm)) onDone();
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <div className="dialog-body confirm-body">{children}</div>
      <ErrorNote error={action.error} />
      <div className="dialog-actions">
        <button type="button" className="button" data-autofocus onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button-danger" disabled={action.busy} onClick={confirm}>
          {action.busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
