import { useId, type ReactNode } from 'react';

interface PanelProps {
  title: string;
  /** Controls that belong to the panel's subject, at the right of its title. */
  actions?: ReactNode;
  children: ReactNode;
  /** The body is one table: it runs to the panel's edges and scrolls sideways on a narrow screen. */
  flush?: boolean;
}

export function Panel({ title, actions, children, flush }: PanelProps) {
  const id = useId();
  return (
    <section className={flush ? 'panel panel-flush' : 'panel'} aria-labelledby={id}>
      <div className="panel-head">
        <h2 id={id}>{title}</h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </div>
      <div className="panel-body">{children}</div>
    </section>
  );
}
