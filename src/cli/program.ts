import { Command } from 'commander';
import { registerAssignment } from './commands/assignment';
import { registerAudit } from './commands/audit';
import { registerAuth } from './commands/auth';
import { registerBackup } from './commands/backup';
import { registerDevice } from './commands/device';
import { registerHost } from './commands/host';
import { registerJob } from './commands/job';
import { registerMirror } from './commands/mirror';
import { registerPool } from './commands/pool';
import { registerReplication } from './commands/replication';
import { registerShare } from './commands/share';
import { registerSnapshot } from './commands/snapshot';
import { registerStatus } from './commands/status';
import { registerUser } from './commands/user';
import { registerVolume } from './commands/volume';
import { DEFAULT_URL } from './context';
import { processIO, type CliIO } from './io';
import { runProgram } from './run-program';

/** The whole `strata` command tree, writing to `io` (tests pass their own streams). */
export function buildProgram(io: CliIO = processIO()): Command {
  const program = new Command('strata')
    .description('Administer a Strata storage gateway through its REST API.')
    .option('--url <url>', `gateway URL (default: $STRATA_URL, else the one you logged in to, else ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (default: $STRATA_TOKEN, else the session saved by strata login)')
    .option('--json', "machine output: the API's JSON on stdout, errors as JSON on stderr")
    .option('-y, --yes', 'delete, remove and revoke without asking')
    // Errors come back to run() as exceptions so it alone decides the exit code.
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)');
  registerAuth(program, io);
  registerStatus(program, io);
  registerDevice(program, io);
  registerPool(program, io);
  registerVolume(program, io);
  registerSnapshot(program, io);
  registerShare(program, io);
  registerMirror(program, io);
  registerReplication(program, io);
  registerJob(program, io);
  registerBackup(program, io);
  registerHost(program, io);
  registerAssignment(program, io);
  registerAudit(program, io);
  registerUser(program, io);
  return program;
}

/** Run one command line; resolves to the exit code. */
export function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  return runProgram(buildProgram(io), argv, io);
}
