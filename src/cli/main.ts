import { auditCommand, version } from './audit.js';
import { registryWriter } from './demo-registry.js';
import { formatDemo, runDemo } from './demo.js';
import { locksCommand } from './locks.js';

const USAGE = `Usage: deadbolt <command>

Commands:
  demo       Run the seed scenario: a rank violation, an order inversion and a real
             AB/BA deadlock, each caught with a report, lockAll making it safe, and
             several processes updating one file-backed registry at once, and secure
             memory working under the declared ranks.
  locks <dir> [--clean]
             List who holds the file locks in <dir> (from the records beside them);
             --clean removes the records of dead holders, never a lock file.
  audit [paths...] [--format text|md|json|sarif] [--output <file>]
        [--fail-on error|warning|note|none] [--config <file>] [--no-color] [--quiet]
             Static lock audit of TypeScript/JavaScript sources: a lock inventory and
             findings (order inversions, reentrancy, unreleased locks, ...); exit 1 on
             findings at or above --fail-on. \`deadbolt audit --help\` for more.
  help       Show this help.

Options:
  --version  Print the version.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(version() ?? 'unknown');
    return 0;
  }
  if (command === '__registry-writer') return registryWriter(rest);
  if (command === 'locks') return locksCommand(rest, console.log, console.error);
  if (command === 'audit') return auditCommand(rest);
  if (command === 'demo') {
    if (rest.length > 0) {
      console.error(`deadbolt demo takes no arguments, got: ${rest.join(' ')}`);
      return 2;
    }
    const steps = await runDemo();
    console.log(formatDemo(steps));
    return steps.every((step) => step.ok) ? 0 : 1;
  }
  console.error(`deadbolt: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
