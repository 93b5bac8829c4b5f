import { DomainError } from '../common/errors';

/**
 * A command line the shell cannot run as typed: unknown command or option,
 * missing argument, unclosed quote, a confirmation it cannot ask for.
 * It leaves with exit status 2, like a shell's usage errors.
 */
export class UsageError extends DomainError {
  readonly code: string;
  constructor(
    message: string,
    /** The usage line of the command, printed under the message. */
    readonly usage?: string,
    code = 'USAGE',
  ) {
    super(message);
    this.code = code;
  }
}
