import { CommanderError, type Command } from 'commander';
import { CliError, EXIT } from './client';
import type { CliIO } from './io';

/**
 * Parse and run a commander program; every failure becomes an exit code
 * (EXIT) and one line on stderr, or a JSON error under --json. `explain`
 * turns a program's own error types into CliErrors (strata-client's SAN errors).
 */
export async function runProgram(program: Command, argv: string[], io: CliIO, explain: (e: unknown) => CliError | undefined = () => undefined): Promise<number> {
  const name = program.name();
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (caught) {
    // Commander has already printed its own message (or the help).
    if (caught instanceof CommanderError) return caught.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const json = Boolean(program.opts().json);
    const e = caught instanceof CliError ? caught : explain(caught);
    if (!e) {
      io.stderr.write(json ? `${JSON.stringify({ code: 'INTERNAL', message: String(caught) })}\n` : `${name}: unexpected error: ${(caught as Error)?.stack ?? caught}\n`);
      return EXIT.API;
    }
    io.stderr.write(json ? `${JSON.stringify(e)}\n` : `${name}: ${e.message}${e.showCode ? ` (${e.code})` : ''}\n`);
    return e.exitCode;
  }
}
