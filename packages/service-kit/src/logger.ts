import pino, { type Logger } from 'pino';
import { tryGetRequestContext } from './context.js';

/**
 * Creates the JSON logger of a service. Every line carries the service name and the ids of the
 * current request context. Callers must never pass health data or secrets as fields.
 */
export function createLogger(service: string, level = process.env.HMS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'refreshToken',
        '*.refreshToken',
        'authorization',
        '*.authorization',
      ],
      censor: '[redacted]',
    },
    mixin() {
      const context = tryGetRequestContext();
      if (!context) return {};
      return {
        requestId: context.requestId,
        traceId: context.traceId,
        tenantId: context.tenantId,
        userId: context.userId,
      };
    },
  });
}

export type { Logger };
