import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one gateway instance. Each instance has its own registry, so tests can run
 * several gateways in one process without metric name clashes.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hms_gateway_' });

  const operations = new Counter({
    name: 'hms_gateway_graphql_operations_total',
    help: 'GraphQL responses sent, by operation type and by the code of the first error (OK when none).',
    labelNames: ['type', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hms_gateway_graphql_operation_duration_seconds',
    help: 'Time from receiving a GraphQL operation to sending its response.',
    labelNames: ['type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const subgraphRequests = new Counter({
    name: 'hms_gateway_subgraph_requests_total',
    help: 'Requests sent to subgraphs, by subgraph and HTTP status (0 when no response came back).',
    labelNames: ['subgraph', 'status'] as const,
    registers: [registry],
  });

  return { registry, operations, duration, subgraphRequests };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
