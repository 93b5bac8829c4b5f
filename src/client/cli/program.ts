import { Command } from 'commander';
import { processIO, type CliIO } from '../../cli/io';
import { runProgram } from '../../cli/run-program';
import { registerAttach } from './commands/attach';
import { registerDiscover } from './commands/discover';
import { registerKeygen } from './commands/keygen';
import { registerLogin } from './commands/login';
import { registerStatus } from './commands/status';
import { explain } from './errors';

/** The whole `strata-client` command tree, writing to `io` (tests pass their own streams). */
export function buildClientProgram(io: CliIO = processIO()): Command {
  const program = new Command('strata-client')
    .description("Attach a Strata gateway's SAN volumes to this host as NBD block devices.")
    .option('--config-dir <dir>', 'key, settings and run/ folder (default: $STRATA_CLIENT_HOME, else $XDG_CONFIG_HOME/strata-client, else ~/.config/strata-client)')
    .option('--json', 'machine output: JSON on stdout, errors as JSON on stderr')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)');
  registerKeygen(program, io);
  registerLogin(program, io);
  registerDiscover(program, io);
  registerAttach(program, io);
  registerStatus(program, io);
  return program;
}

/** Run one strata-client command line; resolves to the exit code (the strata CLI's: src/cli/client.ts EXIT). */
export function runClient(argv: string[], io: CliIO = processIO()): Promise<number> {
  return runProgram(buildClientProgram(io), argv, io, explain);
}
