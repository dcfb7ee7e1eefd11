/**
 * A command line for the machine registry:
 *
 *   npx tsx examples/machine-registry/main.ts <file> add <id> <host> <cpus> [tag...]
 *   npx tsx examples/machine-registry/main.ts <file> remove <id>
 *   npx tsx examples/machine-registry/main.ts <file> get <id>
 *   npx tsx examples/machine-registry/main.ts <file> list [tag]
 *
 * Run several `add`s at once from different shells: every one of them lands.
 */
import { MachineRegistry } from './registry.js';

export async function run(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const [file, command, ...args] = argv;
  if (file === undefined || command === undefined) {
    out('usage: main.ts <file> add <id> <host> <cpus> [tag...] | remove <id> | get <id> | list [tag]');
    return 2;
  }
  const registry = new MachineRegistry(file);
  switch (command) {
    case 'add': {
      const [id = '', host = '', cpus = '', ...tags] = args;
      const machine = await registry.add({ id, host, cpus: Number(cpus), tags });
      out(`added ${machine.id} (${machine.host}, ${machine.cpus} cpus)`);
      return 0;
    }
    case 'remove':
      out((await registry.remove(args[0] ?? '')) ? `removed ${args[0]}` : `${args[0]} was not registered`);
      return 0;
    case 'get': {
      const machine = registry.get(args[0] ?? '');
      out(machine === undefined ? `${args[0]} is not registered` : JSON.stringify(machine, null, 2));
      return machine === undefined ? 1 : 0;
    }
    case 'list':
      for (const machine of registry.list(args[0])) out(`${machine.id}\t${machine.host}\t${machine.cpus}\t${machine.tags.join(',')}`);
      return 0;
    default:
      out(`unknown command ${JSON.stringify(command)}`);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2), (line) => console.log(line)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
