import { CliError, EXIT } from '../../cli/client';
import { Status } from '../../protocols/san/constants';
import { AttachError } from '../attachment';
import { ClientConfigError } from '../client-home';
import { GatewayUnreachable, NoPath, SanError } from '../san-error';

const AUTH_CODES = new Set(['NO_KEY', 'KEY_UNSAFE', 'KEY_INVALID', 'NOT_LOGGED_IN']);

/** strata-client's own errors as CliErrors with the strata CLI's exit codes (src/cli/client.ts EXIT). */
export function explain(e: unknown): CliError | undefined {
  if (e instanceof ClientConfigError) {
    const exitCode = AUTH_CODES.has(e.code) ? EXIT.AUTH : e.code === 'KEY_EXISTS' ? EXIT.API : EXIT.USAGE;
    return new CliError(e.message, { exitCode, code: e.code, showCode: false });
  }
  if (e instanceof GatewayUnreachable || e instanceof NoPath) return new CliError(e.message, { exitCode: EXIT.UNREACHABLE, code: e.code, showCode: false });
  if (e instanceof SanError) return new CliError(e.message, { exitCode: e.status === Status.AUTH_FAILED ? EXIT.AUTH : EXIT.API, code: e.code, showCode: true });
  if (e instanceof AttachError) return new CliError(e.message, { exitCode: EXIT.API, code: e.code, showCode: true });
  return undefined;
}
