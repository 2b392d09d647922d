import { requirePrincipal, type SubgraphContext } from '@hms/service-kit';
import { rememberSignedInViewer } from '../graphql/viewer.js';
import type { IdentityServices } from '../services.js';
import type { LoginInput } from './login.js';
import type { AuthResult } from './session-service.js';

/**
 * Lets the payload's `user` show the signed-in user their own details in the same response. It grants
 * no permission: anything beyond their own record waits for a request with the new token.
 */
function remember(context: SubgraphContext, result: AuthResult): AuthResult {
  rememberSignedInViewer(context, {
    subjectId: result.principalId,
    tenantId: result.user?.tenantId,
    platform: false,
    has: () => false,
  });
  return result;
}

export function sessionResolvers(services: IdentityServices) {
  const client = (context: SubgraphContext) => ({
    ipAddress: context.clientIp,
    userAgent: context.userAgent,
  });

  return {
    PrincipalType: { USER: 'user', PLATFORM_OPERATOR: 'platform' },

    Mutation: {
      login: async (_: unknown, args: { input: LoginInput }, context: SubgraphContext) => {
        const result = await services.logins.login(args.input, client(context), context);
        return remember(context, result);
      },
      refreshSession: async (_: unknown, args: { refreshToken: string }, context: SubgraphContext) => {
        const result = await services.sessions.refresh(args.refreshToken, client(context), context);
        return remember(context, result);
      },
      logout: async (_: unknown, __: unknown, context: SubgraphContext) => {
        await services.sessions.logout(requirePrincipal(context), context);
        return true;
      },
    },
  };
}
