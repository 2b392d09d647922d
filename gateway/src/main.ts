import { ConfigError } from '@hms/service-kit/config';
import { createLogger } from '@hms/service-kit/logger';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './gateway.js';

let config;
try {
  config = loadGatewayConfig();
} catch (error) {
  // Configuration problems are printed plainly: they are read by the operator who deploys, not by a log pipeline.
  console.error(error instanceof ConfigError ? error.message : String(error));
  process.exit(1);
}

const logger = createLogger('gateway', config.logLevel);
let gateway;
try {
  gateway = await startGateway(config, { logger });
} catch (error) {
  logger.fatal({ err: error }, 'The gateway did not start');
  process.exit(1);
}
logger.info({ url: gateway.url }, 'Gateway ready');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'Stopping the gateway');
    gateway.stop().then(
      () => {
        logger.info('Gateway stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'The gateway did not stop cleanly');
        process.exit(1);
      },
    );
  });
}
