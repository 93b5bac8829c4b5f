import { useEffect, useRef, type ReactNode } from 'react';
import { useDocumentTitle } from '../hooks';
import { Link } from '../router';

interface PageHeaderProps {
  title: string;
  /** Parent pages, outermost first. */
  crumbs?: Array<{ label: string; to: string }>;
  /** Buttons for the page's object: create, delete. */
  children?: ReactNode;
  subtitle?: ReactNode;
}

/** Set after the first page has shown, so only a navigation (not the initial load) moves focus. */
let navigated = false;

/**
 * The page's title, which takes the focus after a client-side navigation so
 * a screen reader announces where the admin landed, as a full page load would.
 */
export function PageHeader({ title, crumbs, children, subtitle }: PageHeaderProps) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useDocumentTitle(title);
  useEffect(() => {
    if (navigated) h1.current?.focus();
    navigated = true;
  }, [title]);
  return (
    <header className="page-header">
      <div className="page-heading">
        {crumbs && crumbs.length > 0 && (
          <nav aria-label="Breadcrumb" className="crumbs">
            {crumbs.map((c) => (
              <span key={c.to}>
                <Link to={c.to}>{c.label}</Link>
                <span aria-hidden="true"> / </span>
              </span>
            ))}
          </nav>
        )}
        <h1 ref={h1} tabIndex={-1}>
          {title}
        </h1>
        {subtitle && <div className="page-subtitle">{subtitle}</div>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}
