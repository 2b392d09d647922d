import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One subgraph of the supergraph: its name as it appears in `join__graph` and its GraphQL endpoint. */
export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/** `gateway/subgraphs.json`: the subgraphs that make up the graph, and their development URLs. */
export const SUBGRAPHS_FILE = fileURLToPath(new URL('../subgraphs.json', import.meta.url));

/** `gateway/supergraph.graphql`: the committed supergraph that the gateway serves. */
export const SUPERGRAPH_FILE = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

const NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;

/**
 * Reads and checks a subgraph list file. Names are restricted to lower-case identifiers because each
 * one also names a folder under `services/` and an environment variable (`HMS_SUBGRAPH_<NAME>_URL`).
 */
export function readSubgraphList(file: string = SUBGRAPHS_FILE): SubgraphEndpoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the subgraph list ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error(`${file} must be a non-empty JSON array of { "name", "url" } objects.`);
  }
  const seen = new Set<string>();
  return parsed.map((entry: unknown, index) => {
    const { name, url } = (entry ?? {}) as { name?: unknown; url?: unknown };
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new Error(`${file} entry ${index}: "name" must be a lower-case identifier such as "identity".`);
    }
    if (seen.has(name)) throw new Error(`${file} lists the subgraph "${name}" twice.`);
    seen.add(name);
    if (typeof url !== 'string' || !URL.canParse(url)) {
      throw new Error(`${file} entry ${index} ("${name}"): "url" must be an absolute URL.`);
    }
    return { name, url };
  });
}

/** Returns the environment variable that overrides the URL of a subgraph, e.g. `HMS_SUBGRAPH_IDENTITY_URL`. */
export function subgraphUrlVariable(name: string): string {
  return `HMS_SUBGRAPH_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
}
