// node:util parseArgs for a `ja4 <command>`: a refused flag or value ends
// the command with exit code 2 and points at that command's --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

/** the line that ends every usage error of `ja4 <command>` */
export function usageHint(command: string): string {
  return `Run "ja4 ${command} --help" for usage.`;
}

export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usageHint(command)}`);
  }
}
