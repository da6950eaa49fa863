// A command line that cannot be carried out as typed: exit 2, with the command's usage line
// when the command is known (exit-codes.ts turns it into words and a code).

import type { SubcommandName } from './help.ts';

export class UsageError extends Error {
  constructor(message: string, readonly subcommand?: SubcommandName) {
    super(message);
  }
}
