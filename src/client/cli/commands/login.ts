import { Option, type Command } from 'commander';
import { countArg } from '../../../cli/args';
import { CliError, EXIT } from '../../../cli/client';
import type { CliIO } from '../../../cli/io';
import { normalizeGateway } from '../../client-home';
import { ClientContext } from '../client-context';
import { attachedVolumes } from './status';
import { SECURITY_MODES, type SecurityMode } from '../../../protocols/san/login';

interface LoginOptions {
  host?: string;
  sessions?: number;
  datagramSize?: number;
  timeout?: number;
  security?: SecurityMode;
}

export function registerLogin(program: Command, io: CliIO): void {
  program
    .command('login')
    .description('log in to one or more SAN addresses of the gateway (each one a path) and remember them')
    .argument('<gateway...>', 'SAN address: host, host:port or [ipv6]:port (port 7700 when none is given)')
    .option('--host <name>', 'the host name registered on the gateway (default: the one keygen used)')
    .option('--sessions <n>', 'sessions per address for attach (default 2)', countArg)
    .option('--datagram-size <bytes>', 'datagram size to ask for (default 65000 on loopback, else 1452)', countArg)
    .option('--timeout <seconds>', 'how long an address may take to answer (default 5)', countArg)
    .addOption(
      new Option('--security <mode>', "encrypt (the default) or integrity: data in clear, authenticated, for about a third of the CPU (the gateway must allow it for this host: strata host update <host> --security integrity)").choices([...SECURITY_MODES]),
    )
    .action(async (given: string[], opts: LoginOptions, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      const gateways = [...new Set(given.map(normalizeGateway))];
      const settings = ctx.home.loadSettings();
      const host = ctx.hostName(settings, opts.host);
      if (opts.sessions !== undefined && (opts.sessions < 1 || opts.sessions > 64)) throw new CliError('--sessions must be from 1 to 64', { exitCode: EXIT.USAGE, code: 'USAGE' });
      const client = await ctx.connect({ gateways, host, datagramSize: opts.datagramSize, security: opts.security, connectTimeoutMs: (opts.timeout ?? 5) * 1000 });
      let volumes: number;
      const paths = client.stats().map((s) => ({ gateway: s.gateway, up: s.up, ...(s.lastError ? { error: s.lastError } : {}) }));
      try {
        volumes = (await client.discover()).length;
      } finally {
        await client.close();
      }
      const next = {
        ...settings,
        host,
        gateways: [...new Set([...settings.gateways, ...gateways])],
        ...(opts.sessions !== undefined ? { sessions: opts.sessions } : {}),
        ...(opts.datagramSize !== undefined ? { datagramSize: opts.datagramSize } : {}),
        ...(opts.security !== undefined ? { security: opts.security } : {}),
      };
      ctx.home.saveSettings(next);
      for (const p of paths) if (!p.up) ctx.warn(`strata-client: warning: ${p.error ?? `${p.gateway} did not answer`}; remembered anyway: attach keeps trying it as a path`);
      ctx.emit({ host, gateways: paths, remembered: next.gateways, volumes }, (r) =>
        `Logged in to ${r.gateways.filter((p) => p.up).map((p) => p.gateway).join(', ')} as host '${r.host}': ${r.volumes} volume${r.volumes === 1 ? '' : 's'} assigned (strata-client discover).`,
      );
    });

  program
    .command('logout')
    .description('forget gateway addresses (all of them when none is given); attached volumes stay attached until detached')
    .argument('[gateway...]', 'SAN addresses to forget')
    .action((given: string[], _opts: unknown, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      const settings = ctx.home.loadSettings();
      const drop = given.length ? [...new Set(given.map(normalizeGateway))] : settings.gateways;
      const unknown = drop.filter((g) => !settings.gateways.includes(g));
      if (unknown.length) {
        throw new CliError(`not logged in to ${unknown.join(', ')} (logged in to: ${settings.gateways.join(', ') || 'none'})`, { exitCode: EXIT.API, code: 'NOT_LOGGED_IN', showCode: false });
      }
      ctx.home.saveSettings({ ...settings, gateways: settings.gateways.filter((g) => !drop.includes(g)) });
      return attachedVolumes(ctx).then((attached) => {
        ctx.emit({ loggedOut: drop, stillAttached: attached.map((a) => a.volume) }, (r) => {
          const lines = [r.loggedOut.length ? `Logged out of ${r.loggedOut.join(', ')}.` : 'Not logged in to any gateway.'];
          if (r.stillAttached.length) lines.push(`Still attached (their sessions stay until detached): ${r.stillAttached.join(', ')}.`);
          return lines.join('\n');
        });
      });
    });
}
