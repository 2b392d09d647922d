import type { SubgraphContext } from '@hms/service-kit';

/** Principal reading a field: the token's principal, or the user who signed in earlier in this request. */
export interface Viewer {
  tenantId?: string;
  subjectId: string;
  platform: boolean;
  has(permission: string): boolean;
}

const SIGNED_IN_VIEWER = 'identity:signed-in-viewer';

/**
 * Records the principal that login or refreshSession just authenticated, so the payload's `user` shows
 * that user their own details although the request itself carried no token.
 */
export function rememberSignedInViewer(context: SubgraphContext, viewer: Viewer): void {
  context.memo.set(SIGNED_IN_VIEWER, viewer);
}

export function viewerOf(context: SubgraphContext): Viewer | undefined {
  const principal = context.principal;
  if (principal) {
    return {
      tenantId: principal.tenantId,
      subjectId: principal.subject,
      platform: principal.isPlatformOperator,
      has: (permission) => principal.has(permission),
    };
  }
  return context.memo.get(SIGNED_IN_VIEWER) as Viewer | undefined;
}
