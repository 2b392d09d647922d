import { ConfigError, createLogger, loadConfig } from '@hms/service-kit';
import { startClinical } from './app.js';
import { clinicalEnvShape } from './config.js';

const logger = createLogger('clinical');

try {
  const config = loadConfig(clinicalEnvShape);
  const running = await startClinical(config, { logger });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'Stopping the clinical subgraph.');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'The clinical subgraph did not stop cleanly; exiting anyway.');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal(error.message + '\nSet the variables listed above and start the service again.');
  } else {
    logger.fatal({ err: error }, 'The clinical subgraph failed to start.');
  }
  process.exit(1);
}
