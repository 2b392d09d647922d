import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, type DocumentNode } from 'graphql';

const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

/**
 * Loads the identity subgraph's SDL from every schema/*.graphql file in name order. The supergraph
 * composition script reads the same files in the same order, so what runs is what was composed.
 */
export function loadTypeDefs(): DocumentNode {
  const files = readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort();
  return parse(files.map((file) => readFileSync(join(SCHEMA_DIR, file), 'utf8')).join('\n'));
}
