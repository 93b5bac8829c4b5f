import { PageHeader } from '../components/PageHeader';
import { Link } from '../router';

export function NotFoundPage({ path }: { path: string }) {
  return (
    <>
      <PageHeader title="Page not found" />
      <div className="panel panel-body">
        <p>
          The console has no page at <code>{path}</code>. <Link to="/">Go to the dashboard</Link>.
        </p>
      </div>
    </>
  );
}
