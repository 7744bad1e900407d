#!/usr/bin/env node
import { configCommand, configUsage } from './commands/config.js';
import { dlqCommand, dlqUsage } from './commands/dlq.js';
import { keysCommand, keysUsage } from './commands/keys.js';
import { signCommand, signUsage } from './commands/sign.js';
import { tokenCommand, tokenUsage } from './commands/token.js';
import { verifyCommand, verifyUsage } from './commands/verify.js';
import { CliError, EXIT_USAGE } from './errors.js';

const COMMANDS: Record<string, { run: (args: string[]) => void | Promise<void>; usage: string }> = {
  config: { run: configCommand, usage: configUsage },
  dlq: { run: dlqCommand, usage: dlqUsage },
  keys: { run: keysCommand, usage: keysUsage },
  sign: { run: signCommand, usage: signUsage },
  token: { run: tokenCommand, usage: tokenUsage },
  verify: { run: verifyCommand, usage: verifyUsage },
};

const usage = (): string =>
  `usage:\n${Object.values(COMMANDS)
    .map((command) => `  ${command.usage}`)
    .join('\n')}\n`;

const main = async (argv: string[]): Promise<number> => {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) throw new CliError(`unknown command "${name}"; try: divoc --help`, EXIT_USAGE);
  await command.run(args);
  return 0;
};

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs reports unknown options with a TypeError carrying a code; those are usage errors.
    const exit =
      error instanceof CliError
        ? error.exitCode
        : (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
          ? EXIT_USAGE
          : 1;
    process.stderr.write(`divoc: ${message.split('\n')[0]}\n`);
    process.exitCode = exit;
  },
);
