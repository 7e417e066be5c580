// Command-line parsing (commander). Only parsing and checking of flag values lives here;
// what the flags do is in main.ts.
import { Command, InvalidArgumentError, Option } from 'commander';

export interface RunFlags {
  target?: string[];
  dryRun?: boolean;
  json?: boolean;
  explain?: string;
  force?: string[];
  only?: string;
  jobs: number;
  devices?: number;
  deviceKind: 'gpu' | 'cpu';
  graph?: string;
  cacheDir?: string;
  artifactsDir?: string;
  profile?: string;
  set?: string[];
  data?: string;
  backend?: string;
  plain?: boolean;
  timing?: boolean;
}

export type Invocation =
  | { command: 'run'; flags: RunFlags }
  | { command: 'list'; flags: RunFlags }
  | { command: 'graph'; flags: RunFlags; format: 'mermaid' | 'dot' }
  | { command: 'status'; flags: RunFlags }
  | { command: 'gc'; flags: RunFlags; dryRun: boolean; work: boolean };

/** Repeatable flags; no commander default, so help does not print "(default: [])". */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`${name} takes a whole number >= ${min}, got '${value}'`);
    return n;
  };
}

/**
 * Builds the program. `onInvoke` receives the parsed invocation; commander's own output (help,
 * errors) goes to the given writers.
 */
export function buildProgram(
  onInvoke: (inv: Invocation) => Promise<void>,
  write: { out: (s: string) => void; err: (s: string) => void },
): Command {
  const program = new Command('pipeline.ts')
    .description(
      'Runs the ResNet-strikes-back task graph: recomputes only the stages whose inputs changed ' +
        'and reuses everything else from the content-addressed store (artifacts/cache).',
    )
    .option('-t, --target <id>', 'stage to build, with everything it needs (repeatable; default: the final report)', collect)
    .option('-n, --dry-run', 'show what would run and why, run nothing')
    .option('--json', 'with --dry-run: print the plan as JSON')
    .option('--explain <id>', 'say why a stage is stale (or that it is up to date), run nothing')
    .option('--force <id>', "rerun a stage even if cached (repeatable; 'all' for every stage)", collect)
    .option('--only <id>', 'run just this stage on the cached outputs of its upstream stages')
    .option('-j, --jobs <n>', 'stages run at the same time', wholeNumber('--jobs', 1), 1)
    .option('--devices <n>', 'devices available to stages (GPUs, or CPU worker slots)', wholeNumber('--devices', 0))
    .addOption(new Option('--device-kind <kind>', 'what the devices are').choices(['gpu', 'cpu']).default('cpu'))
    .option('--graph <module>', 'graph module to load (default: src/pipeline/definition.ts)')
    .option('--cache-dir <dir>', 'artifact store location (default: <artifacts dir>/cache; env RSB_CACHE_DIR)')
    .option('--artifacts-dir <dir>', "this clone's local state: run records, resumable scratch, hash memo, and the store unless --cache-dir (default: artifacts; env RSB_ARTIFACTS_DIR)")
    .option('--profile <name>', 'graph profile, passed to the graph module (e.g. a small smoke run)')
    .option('--set <name=value>', 'graph-specific switch passed to the graph module (repeatable)', collect)
    .option('--data <dir>', 'a real ImageNet-layout folder instead of the embedded dataset (same as --set data=DIR)')
    .option('--backend <name>', 'compute backend for training/eval: auto|tensorflow|wasm|cpu (same as --set backend=NAME)')
    .option('--plain', 'plain line output even on a terminal')
    .option('--timing', 'print where the time went (start-up vs the graph\'s own work) on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err })
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npx tsx pipeline.ts --target eval:a1          build eval:a1 and what it needs\n' +
        '  npx tsx pipeline.ts --dry-run                 what would run, and why\n' +
        '  npx tsx pipeline.ts --explain train:a1        why train:a1 is stale\n' +
        '  npx tsx pipeline.ts --only eval:a1            rerun one stage on cached inputs\n' +
        '  npx tsx pipeline.ts --data /data/imagenet --devices 4 --device-kind gpu --target compare\n' +
        '  npx tsx pipeline.ts graph --format mermaid    the graph as a diagram\n' +
        '  deno run -A pipeline.ts --target eval:a1      the same under Deno',
    );
  program.action(() => onInvoke({ command: 'run', flags: program.opts<RunFlags>() }));
  const sub = (name: string, description: string) =>
    program.command(name).description(description).exitOverride().configureOutput({ writeOut: write.out, writeErr: write.err });
  sub('list', 'list the stages of the graph').action(() => onInvoke({ command: 'list', flags: program.opts<RunFlags>() }));
  sub('graph', 'print the graph as a diagram')
    .addOption(new Option('--format <format>', 'diagram language').choices(['mermaid', 'dot']).default('mermaid'))
    .action((o: { format: 'mermaid' | 'dot' }) => onInvoke({ command: 'graph', flags: program.opts<RunFlags>(), format: o.format }));
  sub('status', 'show every stage: cached, stale or pending, and its last run').action(() =>
    onInvoke({ command: 'status', flags: program.opts<RunFlags>() }),
  );
  sub('gc', 'delete cache entries no stage record refers to, and leftovers of killed runs')
    .option('-n, --dry-run', 'only say what would be deleted')
    .option('--work', 'also delete resumable scratch folders (artifacts/work) of keys no record refers to')
    .action((o: { dryRun?: boolean; work?: boolean }) =>
      // `--dry-run` after `gc` may be claimed by the program-level flag of the same name: honour either.
      onInvoke({ command: 'gc', flags: program.opts<RunFlags>(), dryRun: !!(o.dryRun || program.opts<RunFlags>().dryRun), work: !!o.work }),
    );
  return program;
}
