import type { SubgraphContext } from '@hms/service-kit';
import { requirePlatformOperator } from '../platform/guards.js';
import type { IdentityServices } from '../services.js';

export function keyResolvers(services: IdentityServices) {
  return {
    Query: {
      signingKeys: (_: unknown, __: unknown, context: SubgraphContext) => {
        requirePlatformOperator(context);
        return services.keys.listKeys();
      },
    },
    Mutation: {
      rotateSigningKey: (_: unknown, __: unknown, context: SubgraphContext) => {
        const operator = requirePlatformOperator(context);
        services.deps.logger.info(
          { operatorId: operator.subject },
          'A platform operator asked for a signing key rotation.',
        );
        return services.keys.rotate();
      },
    },
  };
}
