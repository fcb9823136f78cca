// Errors that end a CLI command with a message and an exit code.
// Exit codes: 1 = failure at run time, 2 = bad usage or bad input file.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
