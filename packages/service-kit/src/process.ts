import { ConfigError } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** A started service that can be stopped. */
export interface StoppableService {
  stop(): Promise<void>;
}

/**
 * Runs a service as the main program of its process: starts it, stops it on SIGTERM or SIGINT and
 * exits non-zero when it fails to start or to stop. A configuration error is logged as the list of
 * variables to fix.
 */
export async function runService(
  name: string,
  start: (logger: Logger) => Promise<StoppableService>,
): Promise<void> {
  const logger = createLogger(name);
  try {
    const running = await start(logger);
    const shutdown = (signal: string) => {
      logger.info({ signal }, `Stopping the ${name} service.`);
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, `The ${name} service did not stop cleanly; exiting anyway.`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.fatal(`${error.message}\nSet the variables listed above and start the service again.`);
    } else {
      logger.fatal({ err: error }, `The ${name} service failed to start.`);
    }
    process.exit(1);
  }
}
