import { loadConfig, runService } from '@hms/service-kit';
import { startClinical } from './app.js';
import { clinicalEnvShape } from './config.js';

await runService('clinical', (logger) => startClinical(loadConfig(clinicalEnvShape), { logger }));
