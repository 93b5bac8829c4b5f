import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNote } from '../components/ErrorNote';
import { Brand } from '../components/Icon';
import { useAction, useDocumentTitle } from '../hooks';

/** The only page without a session. A notice says why it is showing (expired, logged out). */
export function LoginPage({ notice }: { notice: string | null }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const action = useAction();
  useDocumentTitle('Log in');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!(await action.run(() => api.login(username.trim(), password)))) setPassword('');
  };

  return (
    <div className="login-screen">
      <main className="login-card">
        <Brand className="brand-login" />
        <h1>Log in to the storage gateway</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} className="form" aria-label="Log in">
          <div className="field">
            <label htmlFor="login-username">Username</label>
            <input
              id="login-username"
              name="username"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              autoFocus
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <ErrorNote error={action.error} />
          <button type="submit" className="button button-primary button-block" disabled={action.busy}>
            {action.busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <p className="login-foot">Administrators only. Sessions end when this tab closes.</p>
      </main>
    </div>
  );
}
