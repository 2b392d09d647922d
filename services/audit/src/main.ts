import { loadConfig, runService } from '@hms/service-kit';
import { startAudit } from './app.js';
import { auditEnvShape } from './config.js';

await runService('audit', (logger) => startAudit(loadConfig(auditEnvShape), { logger }));
