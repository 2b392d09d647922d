import { ConfigError, createLogger } from '@hms/service-kit';
import { startIdentity } from './app.js';
import { loadIdentityConfig } from './config.js';

const logger = createLogger('identity');

try {
  const identity = await startIdentity(loadIdentityConfig(), { logger });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'Stopping identity.');
    identity.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'Identity did not stop cleanly.');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  if (error instanceof ConfigError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'Identity failed to start.');
  process.exit(1);
}
