/**
 * The admin CLI's one error class: a failure the operator can act on, with the message to show and the exit code
 * (2: the command line is wrong; 1: the command could not be carried out). Anything else that escapes is an AWS or
 * programming error, which the CLI explains (bin/admin.ts `explain`).
 */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
