// An in-memory stand-in for the HMS gateway, for the importer's tests only.
// It serves login, refreshSession, patientByIdentifier, registerPatient, the
// wards, and the creates and read-backs of the clinical history. It runs them
// on the API schema of the committed supergraph through graphql-js, so a query
// that does not match the contract fails here as it would at the real gateway. It does not model
// tenants beyond one slug, roles, or the clinical service's validation beyond
// the sourceId CONFLICT; the end-to-end tests run the real services.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { graphql, GraphQLError, type GraphQLScalarType } from 'graphql';
import type { RegisterPatientInput } from './mapping.js';

/**
 * The client-facing schema of the committed supergraph, so the importer's queries are checked against
 * the contract the real gateway serves and a change there fails these tests.
 */
const SUPERGRAPH_FILE = fileURLToPath(new URL('../../gateway/supergraph.graphql', import.meta.url));

export interface StoredPatient {
  id: string;
  mrn: string;
  input: RegisterPatientInput;
}

interface Context {
  token: string | undefined;
}

function stringParser(name: string, pattern: RegExp) {
  return (value: unknown) => {
    if (typeof value !== 'string' || !pattern.test(value))
      throw new TypeError(`${name} cannot represent ${String(value)}`);
    return value;
  };
}

function buildStandInSchema() {
  const schema = Supergraph.build(readFileSync(SUPERGRAPH_FILE, 'utf8')).apiSchema().toGraphQLJSSchema();
  // The API schema leaves custom scalars without parsing; these reject malformed
  // values as the real scalars do, so a wrong date format fails the tests.
  const types = schema.getTypeMap();
  Object.assign(types.LocalDate as GraphQLScalarType, {
    parseValue: stringParser('LocalDate', /^\d{4}-\d{2}-\d{2}$/),
  });
  Object.assign(types.DateTime as GraphQLScalarType, {
    parseValue: stringParser('DateTime', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
  });
  return schema;
}

function error(message: string, code: string, extra: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export class StandInGateway {
  readonly tenantSlug = 'demo';
  readonly email = 'importer@example.org';
  readonly password = 'correct horse';
  readonly patients: StoredPatient[] = [];
  /** Operations received, by root field name, in order. */
  readonly operations: string[] = [];
  /** HTTP requests received. */
  requests = 0;
  /** Lifetime of the access tokens issued from now on. */
  accessTokenTtlMs = 15 * 60_000;
  /** Number of requests still to be rejected with this HTTP status before serving normally; 429 comes with Retry-After: 1. */
  failNext: { count: number; status: number } = { count: 0, status: 503 };
  /** When true, registerPatient fails with FORBIDDEN. */
  forbidRegistration = false;
  /** Runs before registerPatient stores a patient. It may throw a GraphQLError, or store the patient itself to mimic a parallel run. */
  beforeRegister: ((input: RegisterPatientInput) => void) | undefined;
  /** Records of the clinical history by mutation name, then by sourceId. */
  readonly records = new Map<string, Map<string, { id: string; input: Record<string, unknown> }>>();
  /** Runs before a history mutation stores its record; it may throw a GraphQLError. */
  beforeCreate: ((mutation: string, input: Record<string, unknown>) => void) | undefined;
  readonly wards: { id: string; code: string; name: string; beds: { code: string }[] }[] = [];
  /** Users created through createUser, such as the practitioners of imported encounters. */
  readonly users: { id: string; email: string; givenName?: string; familyName?: string; roles: string[] }[] =
    [];

  private readonly schema = buildStandInSchema();
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();
  private server: Server | undefined;
  private nextMrn = 1;

  /** Starts listening on an ephemeral loopback port and returns the GraphQL URL. */
  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void this.handle(request.headers.authorization, Buffer.concat(chunks).toString('utf8')).then(
          ({ status, body, headers }) => {
            response.writeHead(status, { 'content-type': 'application/json', ...headers });
            response.end(body);
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/graphql`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Makes every access token issued so far expire, as after a long pause. */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  findByIdentifier(system: string, value: string): StoredPatient | undefined {
    return this.patients.find((patient) =>
      patient.input.identifiers?.some(
        (identifier) => identifier.system === system && identifier.value === value,
      ),
    );
  }

  /** Stores a patient as registerPatient does, throwing CONFLICT for a taken identifier. */
  store(input: RegisterPatientInput): StoredPatient {
    for (const identifier of input.identifiers ?? []) {
      if (this.findByIdentifier(identifier.system, identifier.value)) {
        throw error(`identifier ${identifier.system}|${identifier.value} is already in use`, 'CONFLICT');
      }
    }
    const patient = { id: randomUUID(), mrn: `MRN-${this.nextMrn++}`, input };
    this.patients.push(patient);
    return patient;
  }

  private async handle(
    authorization: string | undefined,
    body: string,
  ): Promise<{ status: number; body: string; headers?: Record<string, string> }> {
    this.requests++;
    if (this.failNext.count > 0) {
      this.failNext.count--;
      if (this.failNext.status === 429) {
        const errors = [
          { message: 'Too many requests for this user.', extensions: { code: 'RATE_LIMITED' } },
        ];
        return { status: 429, body: JSON.stringify({ errors }), headers: { 'retry-after': '1' } };
      }
      return { status: this.failNext.status, body: 'upstream unavailable' };
    }
    const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
    const context: Context = { token: authorization?.replace(/^Bearer /, '') };
    const result = await graphql({
      schema: this.schema,
      source: query,
      variableValues: variables,
      rootValue: this.resolvers(),
      contextValue: context,
    });
    if (!('data' in result) || result.data === undefined) {
      // Like Apollo Server, reject a request that fails validation or
      // variable coercion before execution, with one of these codes.
      const errors = (result.errors ?? []).map((graphqlError) => ({
        message: graphqlError.message,
        extensions: {
          code: /Variable/.test(graphqlError.message) ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED',
        },
      }));
      return { status: 400, body: JSON.stringify({ errors }) };
    }
    return { status: 200, body: JSON.stringify(result) };
  }

  private issueSession() {
    const accessToken = randomUUID();
    const refreshToken = randomUUID();
    const expiresAt = Date.now() + this.accessTokenTtlMs;
    this.accessTokens.set(accessToken, expiresAt);
    this.refreshTokens.add(refreshToken);
    return {
      accessToken,
      refreshToken,
      expiresAt: new Date(expiresAt).toISOString(),
      user: { id: 'importer' },
    };
  }

  private authenticate(context: Context): void {
    const expiresAt = context.token === undefined ? undefined : this.accessTokens.get(context.token);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      throw error('access token missing or expired', 'UNAUTHENTICATED');
    }
  }

  /** Stores a history record as the clinical subgraph does, with a CONFLICT naming an existing sourceId. */
  private createRecord(mutation: string, input: Record<string, unknown>, context: Context) {
    this.operations.push(mutation);
    this.authenticate(context);
    const plain = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
    this.beforeCreate?.(mutation, plain);
    const records = this.records.get(mutation) ?? new Map();
    this.records.set(mutation, records);
    const sourceId = String(plain.sourceId);
    const existing = records.get(sourceId);
    if (existing) {
      throw error(`A record with sourceId ${sourceId} already exists (${existing.id}).`, 'CONFLICT', {
        existingId: existing.id,
      });
    }
    const record = { id: randomUUID(), input: plain };
    records.set(sourceId, record);
    return { id: record.id };
  }

  private resolvers() {
    const create =
      (mutation: string) =>
      ({ input }: { input: Record<string, unknown> }, context: Context) =>
        this.createRecord(mutation, input, context);
    const recordsOf = (mutation: string, patientId: string) =>
      [...(this.records.get(mutation)?.values() ?? [])].filter(
        (record) => record.input.patientId === patientId,
      );
    const page = <T>(nodes: T[]) => ({
      pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: null, startCursor: null },
      totalCount: nodes.length,
      edges: nodes.map((node) => ({ cursor: '', node })),
    });
    const withSourceId = (record: { id: string; input: Record<string, unknown> }) => ({
      id: record.id,
      sourceId: record.input.sourceId,
    });
    return {
      // Only the fields the importer reads back: the ids and sourceIds of a patient's records.
      patient: ({ id }: { id: string }, context: Context) => {
        this.operations.push('patient');
        this.authenticate(context);
        if (!this.patients.some((patient) => patient.id === id)) return null;
        return {
          id,
          encounters: () =>
            page(
              [...recordsOf('openEncounter', id), ...recordsOf('recordPastAdmission', id)].map(withSourceId),
            ),
          problems: () => recordsOf('addProblem', id).map(withSourceId),
          allergies: () => recordsOf('recordAllergy', id).map(withSourceId),
          prescriptions: () => recordsOf('issuePrescription', id).map(withSourceId),
          vitalSigns: () => page(recordsOf('recordVitalSigns', id).map((record) => ({ panelId: record.id }))),
        };
      },
      vitalSignsPanel: ({ id }: { id: string }, context: Context) => {
        this.operations.push('vitalSignsPanel');
        this.authenticate(context);
        const panel = [...(this.records.get('recordVitalSigns')?.values() ?? [])].find(
          (record) => record.id === id,
        );
        return panel ? withSourceId(panel) : null;
      },
      openEncounter: create('openEncounter'),
      recordPastAdmission: create('recordPastAdmission'),
      addProblem: create('addProblem'),
      recordVitalSigns: create('recordVitalSigns'),
      recordAllergy: create('recordAllergy'),
      issuePrescription: create('issuePrescription'),
      wards: (_: unknown, context: Context) => {
        this.operations.push('wards');
        this.authenticate(context);
        return this.wards;
      },
      createWard: (
        { input }: { input: { code: string; name: string; bedCodes?: string[] } },
        context: Context,
      ) => {
        this.operations.push('createWard');
        this.authenticate(context);
        if (this.wards.some((ward) => ward.code === input.code))
          throw error(`ward code ${input.code} is already in use`, 'CONFLICT');
        const ward = {
          id: randomUUID(),
          code: input.code,
          name: input.name,
          beds: (input.bedCodes ?? []).map((code) => ({ code })),
        };
        this.wards.push(ward);
        return ward;
      },
      addBeds: ({ wardId, codes }: { wardId: string; codes: string[] }, context: Context) => {
        this.operations.push('addBeds');
        this.authenticate(context);
        const ward = this.wards.find((candidate) => candidate.id === wardId);
        if (!ward) throw error(`ward ${wardId} not found`, 'NOT_FOUND');
        ward.beds.push(...codes.map((code) => ({ code })));
        return ward;
      },
      users: ({ search }: { search?: string }, context: Context) => {
        this.operations.push('users');
        this.authenticate(context);
        const matching = this.users.filter((user) => !search || user.email.includes(search.toLowerCase()));
        return page(matching.map((user) => ({ id: user.id, email: user.email, roles: user.roles })));
      },
      createUser: (
        { input }: { input: { email: string; givenName?: string; familyName?: string; roles?: string[] } },
        context: Context,
      ) => {
        this.operations.push('createUser');
        this.authenticate(context);
        if (this.users.some((user) => user.email === input.email.toLowerCase())) {
          throw error(`email ${input.email} is already in use`, 'CONFLICT');
        }
        const user = {
          id: randomUUID(),
          email: input.email.toLowerCase(),
          givenName: input.givenName,
          familyName: input.familyName,
          roles: input.roles ?? [],
        };
        this.users.push(user);
        return { id: user.id };
      },
      login: ({ input }: { input: { tenantSlug: string; email?: string; password: string } }) => {
        this.operations.push('login');
        if (
          input.tenantSlug !== this.tenantSlug ||
          input.email !== this.email ||
          input.password !== this.password
        ) {
          throw error('invalid credentials', 'UNAUTHENTICATED');
        }
        return this.issueSession();
      },
      refreshSession: ({ refreshToken }: { refreshToken: string }) => {
        this.operations.push('refreshSession');
        if (!this.refreshTokens.delete(refreshToken))
          throw error('refresh token not accepted', 'UNAUTHENTICATED');
        return this.issueSession();
      },
      patientByIdentifier: ({ system, value }: { system: string; value: string }, context: Context) => {
        this.operations.push('patientByIdentifier');
        this.authenticate(context);
        const patient = this.findByIdentifier(system, value);
        return patient && { id: patient.id, mrn: patient.mrn, identifiers: patient.input.identifiers ?? [] };
      },
      registerPatient: ({ input }: { input: RegisterPatientInput }, context: Context) => {
        this.operations.push('registerPatient');
        this.authenticate(context);
        if (this.forbidRegistration) throw error('may not register patients', 'FORBIDDEN');
        // graphql-js hands over input objects with a null prototype; a plain
        // copy keeps deepStrictEqual in the tests about values only.
        const plain = JSON.parse(JSON.stringify(input)) as RegisterPatientInput;
        if (plain.phone !== undefined && !/^\+[1-9]\d{6,14}$/.test(plain.phone)) {
          throw error('phone must be in E.164 format', 'BAD_USER_INPUT', { fields: { phone: 'not E.164' } });
        }
        this.beforeRegister?.(plain);
        const patient = this.store(plain);
        return { id: patient.id, mrn: patient.mrn, identifiers: plain.identifiers ?? [] };
      },
    };
  }
}
