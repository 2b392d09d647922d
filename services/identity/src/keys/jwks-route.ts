import type { Express } from 'express';
import type { Logger } from '@hms/service-kit';
import type { KeyRing } from './key-ring.js';

/** Verifiers may cache the key set this long; a rotation reaches them sooner through their unknown-kid refetch. */
const JWKS_MAX_AGE_SECONDS = 300;

/** Serves the public signing keys at /.well-known/jwks.json, read from the database on each request. */
export function mountJwksRoute(app: Express, keys: KeyRing, logger: Logger): void {
  app.get('/.well-known/jwks.json', async (_req, res) => {
    try {
      // Read through, not cached: after a rotation on another instance, a verifier refetching for the
      // new kid must find it here at once, or it would wait out its refetch cooldown.
      const published = await keys.publishedKeys();
      res.set('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      res.json({ keys: published });
    } catch (error) {
      logger.error(
        { err: error },
        'Could not load the signing keys for the JWKS; verifiers keep their cached keys meanwhile.',
      );
      res.status(503).set('cache-control', 'no-store').json({ error: 'signing keys unavailable' });
    }
  });
}
