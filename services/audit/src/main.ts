import { ConfigError, createLogger, loadConfig } from '@hms/service-kit';
import { startAudit } from './app.js';
import { auditEnvShape } from './config.js';

const logger = createLogger('audit');

try {
  const config = loadConfig(auditEnvShape);
  const running = await startAudit(config, { logger });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'Stopping the audit subgraph.');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'The audit subgraph did not stop cleanly; exiting anyway.');
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
    logger.fatal({ err: error }, 'The audit subgraph failed to start.');
  }
  process.exit(1);
}
