import { useState, type ReactNode } from 'react';
import type { Loaded } from '../hooks';
import { ErrorNote } from './ErrorNote';
import { Flash } from './Flash';
import { PageHeader } from './PageHeader';

interface ListPageProps<T> {
  title: string;
  subtitle: ReactNode;
  /** The header button that opens the create dialog. */
  createLabel: string;
  list: Loaded<T[]>;
  /** The loaded items (possibly none); done(message) is for row actions: it flashes the message and reloads the list. */
  table: (items: T[], done: (message: string) => void) => ReactNode;
  /** The create dialog: close() dismisses it; created(message) closes it, flashes the message and reloads the list. */
  dialog: (close: () => void, created: (message: string) => void) => ReactNode;
}

/** A top-level list: header with a create button, the outcome of the last create, load errors, the table, the create dialog. */
export function ListPage<T>({ title, subtitle, createLabel, list, table, dialog }: ListPageProps<T>) {
  const [open, setOpen] = useState(false);
  const [flash, setFlash] = useState<string | null>(null);
  const close = () => setOpen(false);
  const created = (message: string) => {
    setOpen(false);
    setFlash(message);
    list.reload();
  };

  return (
    <>
      <PageHeader title={title} subtitle={subtitle}>
        <button type="button" className="button button-primary" onClick={() => setOpen(true)}>
          {createLabel}
        </button>
      </PageHeader>
      <Flash message={flash} />
      <ErrorNote error={list.error} />
      {list.data && table(list.data, created)}
      {open && dialog(close, created)}
    </>
  );
}

interface ListTableProps {
  /** What the page shows instead of a table when there is nothing to list. */
  empty: ReactNode;
  count: number;
  /** The header cells. */
  head: ReactNode;
  /** The rows. */
  children: ReactNode;
}

/** A list page's table in its panel, or the empty-state note when there are no rows. */
export function ListTable({ empty, count, head, children }: ListTableProps) {
  if (count === 0) return <p className="panel panel-body empty">{empty}</p>;
  return (
    <div className="panel table-wrap">
      <table className="table">
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
