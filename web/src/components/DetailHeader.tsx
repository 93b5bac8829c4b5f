import type { ReactNode } from 'react';
import { PageHeader } from './PageHeader';

interface DetailHeaderProps {
  /** The object's name once loaded, else the name from the address. */
  title: string;
  /** The list page the object belongs to. */
  crumb: { label: string; to: string };
  subtitle?: ReactNode;
  /** The remove/delete button; shown once the object has loaded. */
  remove?: { label: string; disabled: boolean; onClick: () => void };
}

/** The header of an object's page: breadcrumb back to its list, its state, and the button that removes it. */
export function DetailHeader({ title, crumb, subtitle, remove }: DetailHeaderProps) {
  return (
    <PageHeader title={title} crumbs={[crumb]} subtitle={subtitle}>
      {remove && (
        <button type="button" className="button button-danger-outline" disabled={remove.disabled} onClick={remove.onClick}>
          {remove.label}
        </button>
      )}
    </PageHeader>
  );
}
