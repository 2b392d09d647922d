import { loadConfig, runService } from '@hms/service-kit';
import { startScheduling } from './app.js';
import { schedulingEnvShape } from './config.js';

await runService('scheduling', (logger) => startScheduling(loadConfig(schedulingEnvShape), { logger }));
