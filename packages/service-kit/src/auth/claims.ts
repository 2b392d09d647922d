/** Claims of an HMS access token, as identity signs them. */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  /** User id, service account id or platform operator id. */
  sub: string;
  /** Tenant id. Absent only on platform operator tokens. */
  tid?: string;
  /** Session id; revoking it in Redis revokes the token. */
  sid: string;
  roles: string[];
  perms: string[];
  /** `user`, `service` or `platform` (platform operators, who hold no tenant). */
  typ: 'user' | 'service' | 'platform';
  exp: number;
  iat: number;
  jti: string;
}

/** The authenticated caller of a request, built from verified token claims. */
export class Principal {
  readonly permissions: ReadonlySet<string>;

  constructor(readonly claims: AccessTokenClaims) {
    this.permissions = new Set(claims.perms);
  }

  get subject(): string {
    return this.claims.sub;
  }

  get tenantId(): string | undefined {
    return this.claims.tid;
  }

  get sessionId(): string {
    return this.claims.sid;
  }

  get roles(): readonly string[] {
    return this.claims.roles;
  }

  get isPlatformOperator(): boolean {
    return this.claims.typ === 'platform';
  }

  has(permission: string): boolean {
    return this.permissions.has(permission);
  }
}
