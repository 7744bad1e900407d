/** A failure the user can fix: printed as one line on stderr, with a non-zero exit code, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit code for a verification that ran and found the credential invalid. */
export const EXIT_INVALID = 2;
/** Exit code for wrong usage (unknown command or option). */
export const EXIT_USAGE = 64;
