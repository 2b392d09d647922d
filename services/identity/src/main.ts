import { runService } from '@hms/service-kit';
import { startIdentity } from './app.js';
import { loadIdentityConfig } from './config.js';

await runService('identity', (logger) => startIdentity(loadIdentityConfig(), { logger }));
