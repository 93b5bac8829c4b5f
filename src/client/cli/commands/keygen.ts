import type { Command } from 'commander';
import type { CliIO } from '../../../cli/io';
import { ClientContext } from '../client-context';

export function registerKeygen(program: Command, io: CliIO): void {
  program
    .command('keygen')
    .description("make this host's Ed25519 key pair and print the public key to register on the gateway")
    .option('--host <name>', 'the name to register the host under (default: this machine\'s host name)')
    .option('--force', 'replace an existing key (the gateway must then be given the new one)')
    .action((opts: { host?: string; force?: boolean }, cmd: Command) => {
      const ctx = ClientContext.of(cmd, io);
      const settings = ctx.home.loadSettings();
      const host = ctx.hostName(settings, opts.host);
      const key = ctx.home.generateKey(host, opts.force);
      ctx.home.saveSettings({ ...settings, host });
      const line = `${key.publicKey} ${host}`;
      ctx.emit({ host, publicKey: line, fingerprint: key.fingerprint, keyFile: ctx.home.keyFile, publicKeyFile: ctx.home.publicKeyFile }, (k) =>
        [
          `Host key made: ${k.keyFile} (${k.fingerprint}), public key in ${k.publicKeyFile}.`,
          `Register it on the gateway, then assign volumes to the host:`,
          `  strata host add ${host} --key "${k.publicKey}"`,
        ].join('\n'),
      );
    });
}
