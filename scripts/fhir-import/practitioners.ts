// Finds or creates the identity user of a Synthea practitioner, for the appointment import and the
// history import alike. A practitioner is found again by an email derived from their NPI, so a
// rerun, the other import or a practitioner created by hand with that email is reused.
import { randomBytes } from 'node:crypto';
import type { GatewayClient } from './gateway-client.js';

/** The identifier system of US National Provider Identifiers, as Synthea references practitioners. */
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
/** Domain of the derived practitioner emails; `.example` is reserved, so no mail is ever delivered. */
export const PRACTITIONER_EMAIL_DOMAIN = 'practitioners.synthea.example';

/** A Synthea practitioner as an encounter's participant names them. */
export interface PractitionerReference {
  npi: string;
  /** Synthea's display name, such as "Dr. Ulysses632 Ziemann98". */
  name: string;
}

const FIND_USERS = `query ImportFindPractitioner($search: String!) {
  users(search: $search, first: 5) { edges { node { id email } } }
}`;
const CREATE_USER = `mutation ImportCreatePractitioner($input: CreateUserInput!) { createUser(input: $input) { id } }`;

/** Returns the NPI of a Synthea practitioner reference such as `Practitioner?identifier=<npi system>|123`. */
export function npiOf(reference: string | undefined): string | undefined {
  const match = /^Practitioner\?identifier=([^|]+)\|(\d{1,20})$/.exec(reference ?? '');
  return match && match[1] === NPI_SYSTEM ? match[2] : undefined;
}

/** Returns the email under which an NPI's practitioner is created and found again. */
export function practitionerEmail(npi: string): string {
  return `npi-${npi}@${PRACTITIONER_EMAIL_DOMAIN}`;
}

/** Splits Synthea's display name ("Dr. Ulysses632 Ziemann98") into a given and a family name. */
export function practitionerName(display: string): { givenName: string; familyName: string } {
  const parts = display
    .replace(/^(Dr|Mr|Mrs|Ms|Miss)\.\s+/, '')
    .trim()
    .split(/\s+/);
  const familyName = parts.length > 1 ? parts.pop()! : 'Practitioner';
  return { givenName: parts.join(' ') || familyName, familyName };
}

/** Returns the first participant of a FHIR Encounter that references a practitioner by NPI. */
export function encounterPractitioner(participants: unknown): PractitionerReference | undefined {
  if (!Array.isArray(participants)) return undefined;
  for (const participant of participants as { individual?: { reference?: unknown; display?: unknown } }[]) {
    const reference = participant?.individual?.reference;
    const npi = npiOf(typeof reference === 'string' ? reference : undefined);
    if (npi === undefined) continue;
    const display = participant.individual?.display;
    return { npi, name: typeof display === 'string' && display.trim() ? display : `NPI ${npi}` };
  }
  return undefined;
}

/**
 * Finds or creates practitioners as identity users with the doctor role, through a client signed in
 * as a user with user:read and user:manage. Concurrent lookups of one NPI share one request.
 */
export class PractitionerDirectory {
  /** Practitioners this directory created, as opposed to found. */
  created = 0;
  private readonly ids = new Map<string, Promise<string>>();

  constructor(private readonly client: GatewayClient) {}

  /** Returns the user id of the practitioner, creating the user when no user has their email. */
  idOf(practitioner: PractitionerReference): Promise<string> {
    let found = this.ids.get(practitioner.npi);
    if (!found) {
      found = this.findOrCreate(practitioner);
      // A failed lookup is tried again by the practitioner's next encounter.
      found.catch(() => this.ids.delete(practitioner.npi));
      this.ids.set(practitioner.npi, found);
    }
    return found;
  }

  private async findOrCreate(practitioner: PractitionerReference): Promise<string> {
    const email = practitionerEmail(practitioner.npi);
    const found = await this.client.request<{
      users: { edges: { node: { id: string; email: string | null } }[] };
    }>(FIND_USERS, { search: email });
    const id = found.users.edges.find((edge) => edge.node.email?.toLowerCase() === email)?.node.id;
    if (id) return id;
    const created = await this.client.request<{ createUser: { id: string } }>(CREATE_USER, {
      input: {
        ...practitionerName(practitioner.name),
        email,
        // The random password is discarded: an administrator resets it before the practitioner signs in.
        password: `${randomBytes(24).toString('base64url')}aA1!`,
        roles: ['doctor'],
      },
    });
    this.created++;
    return created.createUser.id;
  }
}
