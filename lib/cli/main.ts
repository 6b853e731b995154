import { adviseCommand } from './advise-command';
import { brokerCommand } from './broker-command';
import { catalogCommand } from './catalog-command';
import { certifyCommand } from './certify-command';
import { siteCommand } from './site-command';
import { hubCommand } from './hub-command';
import { EXIT } from './cli-types';
import { TectonicError } from '../errors';
import type { CliCommand, CliIo, ExitCode } from './cli-types';
import { compatCommand } from './compat-command';
import { mapCommand } from './map-command';
import { PACKAGE_NAME, packageVersion } from './package-version';
import { policyCommand } from './policy-command';
import { validateCommand } from './validate-command';
import { templateCommand } from './template-command';

/**
 * The commands of `tectonic`, one file each. A new command (map, policy,
 * site, certify) is a new file in lib/cli and one entry here.
 */
export const COMMANDS: readonly CliCommand[] = [compatCommand, catalogCommand, validateCommand, mapCommand, policyCommand, brokerCommand, siteCommand, hubCommand, certifyCommand, templateCommand, adviseCommand];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: tectonic <command> [options]\n       tectonic --version\n\n${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n\nexit status: 0 success, 1 the check failed, 2 usage or input error\nrun "tectonic <command> --help" for a command's options\n`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) io.err(usage());
    else io.out(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`tectonic ${packageVersion()} (${PACKAGE_NAME})\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`tectonic: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`usage: ${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    // Bad usage or unreadable input (code USAGE) is the user's to fix: exit 2 with the usage line.
    if (err instanceof TectonicError && err.code === 'USAGE') {
      io.err(`tectonic ${name}: ${err.message}\nusage: ${command.usage}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}
