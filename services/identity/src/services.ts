import type { IdentityDeps } from './deps.js';
import type { KeyRing } from './keys/key-ring.js';
import type { RoleService } from './roles/role-service.js';
import type { LoginService } from './sessions/login.js';
import type { SessionService } from './sessions/session-service.js';
import type { TenantService } from './tenants/tenant-service.js';
import type { UserService } from './users/user-service.js';

/** The services resolvers and routes call, built once in app.ts. */
export interface IdentityServices {
  deps: IdentityDeps;
  tenants: TenantService;
  users: UserService;
  roles: RoleService;
  sessions: SessionService;
  logins: LoginService;
  keys: KeyRing;
}
