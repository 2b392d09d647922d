import type DataLoader from 'dataloader';
import {
  decodeCursor,
  encodeCursor,
  memoize,
  pageSize,
  toConnection,
  type Connection,
  type EntityManager,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import { Admission } from '../entities/admission.js';
import { Bed, type BedStatus } from '../entities/bed.js';
import { BedAssignment } from '../entities/bed-assignment.js';
import { Department } from '../entities/department.js';
import { Diagnosis } from '../entities/diagnosis.js';
import { DischargeSummary } from '../entities/discharge-summary.js';
import { DischargeSummaryVersion } from '../entities/discharge-summary-version.js';
import { Encounter, type EncounterClass, type EncounterStatus } from '../entities/encounter.js';
import { Note } from '../entities/note.js';
import { NoteVersion } from '../entities/note-version.js';
import { Ward } from '../entities/ward.js';
import { auditReads } from '../patients/events.js';
import { groupBy, requestLoader } from './common.js';

/**
 * The request's DataLoaders of encounters, wards, notes and summaries. Each field that resolves per
 * parent goes through one of them, so a page of N parents costs the same number of queries for any N.
 * Encounters and notes are read-audited in the transaction that read them.
 */

const ENCOUNTER_READ = { entityType: 'Encounter', action: 'encounter.read' };
const NOTE_READ = { entityType: 'ClinicalNote', action: 'note.read' };

export interface EncounterListArguments {
  status?: EncounterStatus | null;
  class?: EncounterClass | null;
  first?: number | null;
  after?: string | null;
}

export interface WardCensus {
  totalBeds: number;
  free: number;
  occupied: number;
  cleaning: number;
  blocked: number;
  occupants: BedAssignment[];
}

/** `in (?, ?, …)` with one placeholder per key. */
const placeholders = (keys: readonly unknown[]) => keys.map(() => '?').join(', ');

/** Loaders of one request and tenant. */
export class ClinicalLoaders {
  constructor(
    private readonly context: SubgraphContext,
    private readonly orm: MikroORM,
    private readonly tenantId: string,
  ) {}

  private loader<V>(
    name: string,
    fetch: (em: EntityManager, keys: string[]) => Promise<Map<string, V>>,
    missing: V,
  ) {
    return requestLoader(this.context, name, this.orm, this.tenantId, fetch, missing);
  }

  private byId<T extends { id: string }>(rows: readonly T[]): Map<string, T> {
    return new Map(rows.map((row) => [row.id, row]));
  }

  private audit(
    em: EntityManager,
    kind: typeof ENCOUNTER_READ,
    rows: readonly { id: string; patientId: string }[],
  ) {
    return auditReads(em, this.context, this.tenantId, kind, rows);
  }

  get encounter(): DataLoader<string, Encounter | null> {
    return this.loader(
      'encounter',
      async (em, ids) => {
        const encounters = await em.find(Encounter, { id: { $in: ids } });
        await this.audit(em, ENCOUNTER_READ, encounters);
        return this.byId(encounters);
      },
      null,
    );
  }

  get diagnoses(): DataLoader<string, Diagnosis[]> {
    return this.loader(
      'diagnosesByEncounter',
      async (em, encounterIds) => {
        const rows = await em.find(
          Diagnosis,
          { encounterId: { $in: encounterIds }, removedAt: null },
          { orderBy: { encounterId: 'asc', isPrimary: 'desc', recordedAt: 'asc', id: 'asc' } },
        );
        return groupBy(rows, (row) => row.encounterId);
      },
      [],
    );
  }

  get department(): DataLoader<string, Department | null> {
    return this.loader(
      'department',
      async (em, ids) => this.byId(await em.find(Department, { id: { $in: ids } })),
      null,
    );
  }

  get admission(): DataLoader<string, Admission | null> {
    return this.loader(
      'admissionByEncounter',
      async (em, encounterIds) => {
        const rows = await em.find(Admission, { encounterId: { $in: encounterIds } });
        return new Map(rows.map((row) => [row.encounterId, row]));
      },
      null,
    );
  }

  get currentAdmission(): DataLoader<string, Admission | null> {
    return this.loader(
      'currentAdmissionByPatient',
      async (em, patientIds) => {
        const rows = await em.find(Admission, { patientId: { $in: patientIds }, dischargedAt: null });
        return new Map(rows.map((row) => [row.patientId, row]));
      },
      null,
    );
  }

  get assignments(): DataLoader<string, BedAssignment[]> {
    return this.loader(
      'assignmentsByEncounter',
      async (em, encounterIds) => {
        const rows = await em.find(
          BedAssignment,
          { encounterId: { $in: encounterIds } },
          { orderBy: { encounterId: 'asc', startedAt: 'asc' } },
        );
        return groupBy(rows, (row) => row.encounterId);
      },
      [],
    );
  }

  get ward(): DataLoader<string, Ward | null> {
    return this.loader('ward', async (em, ids) => this.byId(await em.find(Ward, { id: { $in: ids } })), null);
  }

  get bed(): DataLoader<string, Bed | null> {
    return this.loader('bed', async (em, ids) => this.byId(await em.find(Bed, { id: { $in: ids } })), null);
  }

  get beds(): DataLoader<string, Bed[]> {
    return this.loader(
      'bedsByWard',
      async (em, wardIds) => {
        const rows = await em.find(
          Bed,
          { wardId: { $in: wardIds } },
          { orderBy: { wardId: 'asc', code: 'asc' } },
        );
        return groupBy(rows, (row) => row.wardId);
      },
      [],
    );
  }

  get occupant(): DataLoader<string, BedAssignment | null> {
    return this.loader(
      'occupantByBed',
      async (em, bedIds) => {
        const rows = await em.find(BedAssignment, { bedId: { $in: bedIds }, endedAt: null });
        return new Map(rows.map((row) => [row.bedId, row]));
      },
      null,
    );
  }

  get census(): DataLoader<string, WardCensus> {
    const empty: WardCensus = { totalBeds: 0, free: 0, occupied: 0, cleaning: 0, blocked: 0, occupants: [] };
    return this.loader(
      'censusByWard',
      async (em, wardIds) => {
        const counts = await em.execute<{ ward_id: string; status: BedStatus; count: number }[]>(
          `select ward_id, status, count(*)::int as count from clinical.beds
            where tenant_id = ? and ward_id in (${placeholders(wardIds)}) group by ward_id, status`,
          [this.tenantId, ...wardIds],
        );
        const occupants = await em.execute<Record<string, unknown>[]>(
          `select a.* from clinical.bed_assignments a
             join clinical.beds b on b.tenant_id = a.tenant_id and b.id = a.bed_id
            where a.tenant_id = ? and a.ward_id in (${placeholders(wardIds)}) and a.ended_at is null
            order by a.ward_id, b.code`,
          [this.tenantId, ...wardIds],
        );
        const census = new Map<string, WardCensus>();
        const of = (wardId: string) => {
          let entry = census.get(wardId);
          if (!entry) census.set(wardId, (entry = { ...empty, occupants: [] }));
          return entry;
        };
        for (const row of counts) {
          const entry = of(row.ward_id);
          entry.totalBeds += row.count;
          entry[STATUS_FIELDS[row.status]] += row.count;
        }
        for (const row of occupants) {
          const assignment = em.map(BedAssignment, row);
          of(assignment.wardId).occupants.push(assignment);
        }
        return census;
      },
      empty,
    );
  }

  get notes(): DataLoader<string, Note[]> {
    return this.loader(
      'notesByEncounter',
      async (em, encounterIds) => {
        const rows = await em.find(
          Note,
          { encounterId: { $in: encounterIds } },
          { orderBy: { encounterId: 'asc', createdAt: 'asc', id: 'asc' } },
        );
        await this.audit(em, NOTE_READ, rows);
        return groupBy(rows, (row) => row.encounterId);
      },
      [],
    );
  }

  get note(): DataLoader<string, Note | null> {
    return this.loader(
      'note',
      async (em, ids) => {
        const rows = await em.find(Note, { id: { $in: ids } });
        await this.audit(em, NOTE_READ, rows);
        return this.byId(rows);
      },
      null,
    );
  }

  get noteVersions(): DataLoader<string, NoteVersion[]> {
    return this.loader(
      'noteVersionsByNote',
      async (em, noteIds) => {
        const rows = await em.find(
          NoteVersion,
          { noteId: { $in: noteIds } },
          { orderBy: { noteId: 'asc', version: 'asc' } },
        );
        return groupBy(rows, (row) => row.noteId);
      },
      [],
    );
  }

  get summary(): DataLoader<string, DischargeSummary | null> {
    return this.loader(
      'summaryByEncounter',
      async (em, encounterIds) => {
        const rows = await em.find(DischargeSummary, { encounterId: { $in: encounterIds } });
        return new Map(rows.map((row) => [row.encounterId, row]));
      },
      null,
    );
  }

  get summaryVersions(): DataLoader<string, DischargeSummaryVersion[]> {
    return this.loader(
      'summaryVersionsBySummary',
      async (em, summaryIds) => {
        const rows = await em.find(
          DischargeSummaryVersion,
          { summaryId: { $in: summaryIds } },
          { orderBy: { summaryId: 'asc', version: 'asc' } },
        );
        return groupBy(rows, (row) => row.summaryId);
      },
      [],
    );
  }

  get openEncounters(): DataLoader<string, Encounter[]> {
    return this.loader(
      'openEncountersByPatient',
      async (em, patientIds) => {
        const rows = await em.find(
          Encounter,
          { patientId: { $in: patientIds }, status: { $in: ['OPEN', 'IN_PROGRESS'] } },
          { orderBy: { patientId: 'asc', startedAt: 'desc', id: 'desc' } },
        );
        await this.audit(em, ENCOUNTER_READ, rows);
        return groupBy(rows, (row) => row.patientId);
      },
      [],
    );
  }

  /**
   * Returns the loader of Patient.encounters pages for one set of arguments. Pages of every patient
   * requested with the same arguments come from one windowed query and one count.
   */
  encounterPages(args: EncounterListArguments): DataLoader<string, Connection<Encounter>> {
    const size = pageSize(args.first);
    const after = decodeCursor(args.after, 2) as [string, string] | undefined;
    const filters: string[] = [];
    const filterParams: unknown[] = [];
    if (args.status) {
      filters.push('status = ?');
      filterParams.push(args.status);
    }
    if (args.class) {
      filters.push('class = ?');
      filterParams.push(args.class);
    }
    const key = JSON.stringify([args.status ?? null, args.class ?? null, size, args.after ?? null]);
    return this.loader<Connection<Encounter>>(
      `encounterPages:${key}`,
      async (em, patientIds) => {
        // tenant_id leads like the index; row-level security would add the same condition anyway.
        const where = ['tenant_id = ?', `patient_id in (${placeholders(patientIds)})`, ...filters].join(
          ' and ',
        );
        const counts = await em.execute<{ patient_id: string; count: number }[]>(
          `select patient_id, count(*)::int as count from clinical.encounters where ${where} group by patient_id`,
          [this.tenantId, ...patientIds, ...filterParams],
        );
        const keyset = after ? ' and (started_at, id) < (?::timestamptz, ?::uuid)' : '';
        const rows =
          size === 0
            ? []
            : await em.execute<Record<string, unknown>[]>(
                `select * from (
                     select e.*, row_number() over (partition by patient_id order by started_at desc, id desc) as page_position
                       from clinical.encounters e where ${where}${keyset}
                   ) ranked where page_position <= ? order by patient_id, started_at desc, id desc`,
                [this.tenantId, ...patientIds, ...filterParams, ...(after ?? []), size + 1],
              );
        const encounters = rows.map((row) => {
          delete row.page_position;
          return em.map(Encounter, row);
        });
        const byPatient = groupBy(encounters, (encounter) => encounter.patientId);
        // Only the rows of the pages are read. The extra row per patient only shows whether a next page exists.
        await this.audit(
          em,
          ENCOUNTER_READ,
          [...byPatient.values()].flatMap((page) => page.slice(0, size)),
        );
        const totals = new Map(counts.map((row) => [row.patient_id, row.count]));
        return new Map(
          patientIds.map((patientId) => [
            patientId,
            toConnection(
              byPatient.get(patientId) ?? [],
              size,
              totals.get(patientId) ?? 0,
              (encounter) => encodeCursor([encounter.startedAt.toISOString(), encounter.id]),
              after !== undefined,
            ),
          ]),
        );
      },
      toConnection([], size, 0, () => '', after !== undefined),
    );
  }
}

const STATUS_FIELDS: Record<BedStatus, 'free' | 'occupied' | 'cleaning' | 'blocked'> = {
  FREE: 'free',
  OCCUPIED: 'occupied',
  CLEANING: 'cleaning',
  BLOCKED: 'blocked',
};

/** Returns the loaders of the request, created on first use. */
export function loadersOf(context: SubgraphContext, orm: MikroORM, tenantId: string): ClinicalLoaders {
  return memoize(context, 'clinical:loaders', () => new ClinicalLoaders(context, orm, tenantId));
}
