// Preloaded with `node --import @hms/service-kit/telemetry-preload` so that tracing patches the
// HTTP server, PostgreSQL and Redis clients before the service imports them.
import { startTelemetry } from './telemetry.js';

startTelemetry(process.env.HMS_SERVICE_NAME ?? 'hms');
