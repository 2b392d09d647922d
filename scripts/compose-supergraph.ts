/**
 * Composes the supergraph from each subgraph's SDL and writes `gateway/supergraph.graphql`.
 *
 *   tsx scripts/compose-supergraph.ts            compose and write the file
 *   tsx scripts/compose-supergraph.ts --check    compose in memory; fail when composition fails or the
 *                                                committed file differs (used by CI)
 *   --root <dir>                                 a different repository root (used by the tests)
 *
 * The subgraphs and their URLs come from `gateway/subgraphs.json`; the SDL of subgraph `<name>` is every
 * `*.graphql` file in `services/<name>/src/schema/`, in file-name order. Composing from files rather
 * than by introspecting running services means CI can check the graph without starting anything, and
 * the gateway serves exactly the reviewed, committed supergraph.
 */
import { composeServices } from '@apollo/composition';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GraphQLError, Kind, parse, Source, type DefinitionNode, type DocumentNode } from 'graphql';
import { readSubgraphList } from '../gateway/src/subgraphs.js';

const DEFAULT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface ComposeOutcome {
  /** The supergraph SDL as written to the file, ending with a newline. Absent when composition failed. */
  supergraphSdl?: string;
  /** Human-readable problems: unreadable SDL files, syntax errors, composition errors with their codes. */
  errors: string[];
  /** Composition hints (non-fatal), each as `CODE: message`. */
  hints: string[];
}

/** Composes the supergraph of the repository at `root` without touching any file. */
export function composeSupergraph(root: string = DEFAULT_ROOT): ComposeOutcome {
  const subgraphs = readSubgraphList(join(root, 'gateway', 'subgraphs.json'));
  const errors: string[] = [];
  const services = [];

  for (const subgraph of subgraphs) {
    const schemaDir = join(root, 'services', subgraph.name, 'src', 'schema');
    const files = existsSync(schemaDir)
      ? readdirSync(schemaDir)
          .filter((file) => file.endsWith('.graphql'))
          .sort()
      : [];
    if (files.length === 0) {
      errors.push(`${subgraph.name}: no *.graphql files in ${relative(root, schemaDir)}`);
      continue;
    }

    // Each file is parsed on its own so that a syntax error names the file and line. The definitions
    // are then joined into one document, the same as concatenating the files.
    const definitions: DefinitionNode[] = [];
    for (const file of files) {
      const path = join(schemaDir, file);
      try {
        definitions.push(...parse(new Source(readFileSync(path, 'utf8'), relative(root, path))).definitions);
      } catch (error) {
        errors.push(`${subgraph.name}: ${error instanceof GraphQLError ? error.toString() : String(error)}`);
      }
    }
    const typeDefs: DocumentNode = { kind: Kind.DOCUMENT, definitions };
    services.push({ name: subgraph.name, url: subgraph.url, typeDefs });
  }
  if (errors.length > 0) return { errors, hints: [] };

  const result = composeServices(services);
  if (result.errors) {
    return {
      errors: result.errors.map((error) => {
        const code = typeof error.extensions.code === 'string' ? error.extensions.code : 'COMPOSITION_ERROR';
        return `${code}: ${error.message}`;
      }),
      hints: [],
    };
  }
  const sdl = result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`;
  return {
    supergraphSdl: sdl,
    errors: [],
    hints: result.hints.map((hint) => `${hint.definition.code}: ${hint.message}`),
  };
}

/** Runs the command line; returns the process exit code. */
export function main(argv: string[]): number {
  const check = argv.includes('--check');
  const rootIndex = argv.indexOf('--root');
  const rootArgument = rootIndex >= 0 ? argv[rootIndex + 1] : undefined;
  if (rootIndex >= 0 && !rootArgument) {
    console.error('--root needs a directory.');
    return 2;
  }
  const root = rootArgument ? resolve(rootArgument) : DEFAULT_ROOT;
  const target = join(root, 'gateway', 'supergraph.graphql');

  let outcome: ComposeOutcome;
  try {
    outcome = composeSupergraph(root);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  for (const hint of outcome.hints) console.error(`hint ${hint}`);
  if (!outcome.supergraphSdl) {
    console.error(`Supergraph composition failed with ${outcome.errors.length} error(s):`);
    for (const error of outcome.errors) console.error(`  ${error}`);
    return 1;
  }

  if (check) {
    const committed = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
    if (committed !== outcome.supergraphSdl) {
      console.error(
        committed === undefined
          ? 'gateway/supergraph.graphql is missing; run npm run supergraph'
          : 'gateway/supergraph.graphql is stale; run npm run supergraph',
      );
      return 1;
    }
    console.log('gateway/supergraph.graphql is up to date.');
    return 0;
  }

  writeFileSync(target, outcome.supergraphSdl);
  console.log(`Wrote ${relative(process.cwd(), target) || target}.`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
