import type { Command } from 'commander';
import type { Session } from '../../storage/auth.service';
import { CliError, EXIT, usageError } from '../client';
import { Context } from '../context';
import { time } from '../format';
import { askHidden, readStdinLines, type CliIO } from '../io';

export function registerAuth(program: Command, io: CliIO): void {
  program
    .command('login')
    .description('log in to the gateway and remember the session')
    .argument('[username]', 'admin account (default: the one last logged in, else admin)')
    .option('--password-stdin', 'read the password from the first line of stdin (for scripts)')
    .action(async (username: string | undefined, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const user = username ?? ctx.saved.username ?? 'admin';
      const password = opts.passwordStdin ? (await readStdinLines(io))[0] : await askHidden(io, `Password for ${user} at ${ctx.url}: `);
      if (!password) throw usageError('the password is empty');
      const session = await ctx.api.post<Session>('auth/login', { username: user, password }, { public: true, checksCredentials: true });
      ctx.saveLogin({ url: ctx.url, token: session.token, username: session.username });
      ctx.emit(session, (s) => `Logged in to ${ctx.url} as ${s.username} (session expires ${time(s.expiresAt)}).`);
    });

  program
    .command('logout')
    .description('end the session and forget its token')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      if (!ctx.api.loggedIn) {
        if (!ctx.json) ctx.out('Not logged in.');
        return;
      }
      try {
        await ctx.api.post<void>('auth/logout');
      } catch (e) {
        // An expired token is as logged out as it gets: still forget it locally.
        if (!(e instanceof CliError && e.exitCode === EXIT.AUTH)) throw e;
      }
      ctx.forgetToken();
      if (!ctx.json) ctx.out(`Logged out of ${ctx.url}.`);
    });

  program
    .command('whoami')
    .description('the admin the current session belongs to')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = Context.of(cmd, io);
      const me = await ctx.api.get<{ username: string }>('auth/me');
      ctx.emit(me, (m) => `${m.username} at ${ctx.url}`);
    });
}
