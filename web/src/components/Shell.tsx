import type { ReactNode } from 'react';
import { api } from '../api';
import { navigate, Link, usePath } from '../router';
import { Brand, Icon, type IconName } from './Icon';

const NAV: Array<{ to: string; label: string; icon: IconName }> = [
  { to: '/', label: 'Dashboard', icon: 'dashboard' },
  { to: '/devices', label: 'Devices', icon: 'devices' },
  { to: '/pools', label: 'Pools', icon: 'pools' },
  { to: '/volumes', label: 'Volumes', icon: 'volumes' },
  { to: '/shares', label: 'Shares', icon: 'shares' },
  { to: '/hosts', label: 'Hosts', icon: 'hosts' },
  { to: '/consistency-groups', label: 'Consistency groups', icon: 'groups' },
  { to: '/replication', label: 'Replication', icon: 'replication' },
  { to: '/backups', label: 'Backups', icon: 'backups' },
  { to: '/jobs', label: 'Jobs', icon: 'jobs' },
  { to: '/audit', label: 'Audit log', icon: 'audit' },
];

/** A section is current on its own page and on the pages of its objects (/volumes/vol1). */
const isCurrent = (to: string, path: string) => (to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`));

/** The frame around every page once logged in: the navigation, who is logged in, and log out. */
export function Shell({ username, children }: { username: string; children: ReactNode }) {
  const path = usePath();
  const logout = async () => {
    // Forgotten here even if the gateway is unreachable: the login page shows either way.
    await api.logout().catch(() => undefined);
    navigate('/login', { replace: true });
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="sidebar-inner">
          <Brand />
          <nav aria-label="Main" className="nav">
            {NAV.map((n) => (
              <Link key={n.to} to={n.to} className="nav-link" aria-current={isCurrent(n.to, path) ? 'page' : undefined}>
                <Icon name={n.icon} />
                <span>{n.label}</span>
              </Link>
            ))}
          </nav>
          <div className="sidebar-foot">
            <span className="user">{username}</span>
            <button type="button" className="nav-link" onClick={logout}>
              <Icon name="logout" />
              <span>Log out</span>
            </button>
          </div>
        </div>
      </aside>
      <main id="main" className="main">
        {children}
      </main>
    </div>
  );
}
