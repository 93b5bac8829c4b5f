import { useEffect, type ReactNode } from 'react';
import { sessionStore } from './api';
import { Shell } from './components/Shell';
import { useSession } from './hooks';
import { AuditPage } from './pages/AuditPage';
import { BackupsPage } from './pages/BackupsPage';
import { ConsistencyGroupsPage } from './pages/ConsistencyGroupsPage';
import { JobsPage } from './pages/JobsPage';
import { DashboardPage } from './pages/DashboardPage';
import { DevicePage } from './pages/DevicePage';
import { DevicesPage } from './pages/DevicesPage';
import { HostPage } from './pages/HostPage';
import { HostsPage } from './pages/HostsPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { PoolPage } from './pages/PoolPage';
import { PoolsPage } from './pages/PoolsPage';
import { ReplicationPage } from './pages/ReplicationPage';
import { SharePage } from './pages/SharePage';
import { SharesPage } from './pages/SharesPage';
import { VolumePage } from './pages/VolumePage';
import { VolumesPage } from './pages/VolumesPage';
import { matchPath, navigate, usePath } from './router';

type Params = Record<string, string>;

const ROUTES: Array<[string, (p: Params) => ReactNode]> = [
  ['/', () => <DashboardPage />],
  ['/devices', () => <DevicesPage />],
  ['/devices/:key', (p) => <DevicePage key={p.key} name={p.key} />],
  ['/pools', () => <PoolsPage />],
  ['/pools/:key', (p) => <PoolPage key={p.key} name={p.key} />],
  ['/volumes', () => <VolumesPage />],
  ['/volumes/:key', (p) => <VolumePage key={p.key} name={p.key} />],
  ['/shares', () => <SharesPage />],
  ['/shares/:key', (p) => <SharePage key={p.key} name={p.key} />],
  ['/hosts', () => <HostsPage />],
  ['/hosts/:key', (p) => <HostPage key={p.key} name={p.key} />],
  ['/consistency-groups', () => <ConsistencyGroupsPage />],
  ['/replication', () => <ReplicationPage />],
  ['/backups', () => <BackupsPage />],
  ['/jobs', () => <JobsPage />],
  ['/audit', () => <AuditPage />],
];

function route(path: string): ReactNode {
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, path);
    if (params) return render(params);
  }
  return <NotFoundPage path={path} />;
}

/** Longest a browser timer may wait (about 24.8 days); a longer session is re-checked then. */
const MAX_TIMER = 2 ** 31 - 1;

export function App() {
  const { session, notice } = useSession();
  const path = usePath();

  // The token's own expiry ends the session even if the admin leaves the tab idle.
  useEffect(() => {
    if (!session) return;
    const timer = window.setTimeout(() => sessionStore.expire(), Math.min(MAX_TIMER, Date.parse(session.expiresAt) - Date.now()));
    return () => window.clearTimeout(timer);
  }, [session]);

  // /login is where logging out lands; once logged in there, the dashboard is the place to be.
  useEffect(() => {
    if (session && path === '/login') navigate('/', { replace: true });
  }, [session, path]);

  // Logged out, every path shows the login page, and the same path once logged in (deep links survive).
  if (!session) return <LoginPage notice={notice} />;
  return <Shell username={session.username}>{path === '/login' ? null : route(path)}</Shell>;
}
