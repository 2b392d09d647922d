import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, Source, type DocumentNode } from 'graphql';

const SCHEMA_DIR = fileURLToPath(new URL('./schema/', import.meta.url));

/**
 * Reads the subgraph's SDL: every `schema/*.graphql` file in file-name order, which is also how the
 * supergraph composition script reads them, so the served schema and the composed one cannot differ.
 */
export function loadTypeDefs(): DocumentNode {
  const files = readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort();
  const sdl = files.map((file) => readFileSync(join(SCHEMA_DIR, file), 'utf8')).join('\n');
  return parse(new Source(sdl, 'services/scheduling/src/schema'));
}
