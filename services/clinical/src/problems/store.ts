import { LockMode } from '@mikro-orm/postgresql';
import { HmsError, InputErrors, newId, type EntityManager, type EventOrigin } from '@hms/service-kit';
import { CONDITION_SYSTEMS, Problem } from '../entities/problem.js';
import {
  checkConcept,
  checkOptionalUuid,
  checkPastInstant,
  checkSourceId,
  checkText,
  MAX_NOTE,
} from '../records/input.js';
import {
  assertSourceIdFree,
  flushSourced,
  requireEncounterOfPatient,
  requirePatientLivingAt,
} from '../records/store.js';
import { problemAdded, problemStatusChanged } from './events.js';
import type { AddProblemInput } from './inputs.js';
import { problemView, type ProblemView } from './view.js';

/**
 * Validates and stores a problem, ACTIVE or (with resolvedAt, for history) RESOLVED, and writes its
 * event and audit record in the same transaction.
 */
export async function addProblem(
  em: EntityManager,
  tenantId: string,
  input: AddProblemInput,
  now: Date,
  origin: EventOrigin,
  recorderId: string,
): Promise<ProblemView> {
  const errors = new InputErrors();
  const encounterId = checkOptionalUuid(input.encounterId, 'input.encounterId', 'an encounter', errors);
  const sourceId = checkSourceId(input.sourceId, errors);
  const condition = checkConcept(input.condition, 'input.condition', CONDITION_SYSTEMS, errors);
  const onsetAt = checkPastInstant(input.onsetAt, 'input.onsetAt', now, errors);
  const resolvedAt = checkPastInstant(input.resolvedAt, 'input.resolvedAt', now, errors);
  if (onsetAt && resolvedAt && resolvedAt < onsetAt) {
    errors.add('input.resolvedAt', `must not be before onsetAt (${onsetAt.toISOString()})`);
  }
  const recordedAt = checkPastInstant(input.recordedAt, 'input.recordedAt', now, errors) ?? now;
  const note = checkText(input.note, 'input.note', MAX_NOTE, errors);
  errors.throwIfAny();

  await requirePatientLivingAt(em, input.patientId, [{ field: 'input.onsetAt', at: onsetAt }]);
  await requireEncounterOfPatient(em, input.patientId, encounterId);
  await assertSourceIdFree(em, 'problems', 'problem', sourceId);

  const problem = em.create(Problem, {
    id: newId(),
    tenantId,
    patientId: input.patientId,
    encounterId,
    sourceId,
    conditionSystem: condition!.system,
    conditionCode: condition!.code,
    conditionDisplay: condition!.display,
    status: resolvedAt ? 'RESOLVED' : 'ACTIVE',
    onsetAt,
    resolvedAt,
    note,
    recordedAt,
    recordedBy: recorderId,
    createdAt: now,
    updatedAt: now,
  });
  await flushSourced(em, 'problem');
  await problemAdded(em, origin, tenantId, problem);
  return problemView(problem);
}

/** Resolves an ACTIVE or RECURRENCE problem at `resolvedAt` (now when left out). */
export async function resolveProblem(
  em: EntityManager,
  tenantId: string,
  id: string,
  resolvedAtInput: Date | null | undefined,
  now: Date,
  origin: EventOrigin,
): Promise<ProblemView> {
  const errors = new InputErrors();
  const resolvedAt = checkPastInstant(resolvedAtInput, 'resolvedAt', now, errors) ?? now;
  errors.throwIfAny();

  const problem = await lockProblem(em, id);
  if (problem.status === 'RESOLVED') {
    throw HmsError.conflict(
      `Problem ${id} is already RESOLVED; only an ACTIVE or RECURRENCE problem can be resolved.`,
      {
        status: problem.status,
      },
    );
  }
  if (problem.onsetAt && resolvedAt < problem.onsetAt) {
    throw HmsError.badUserInput([
      { field: 'resolvedAt', message: `must not be before the onset (${problem.onsetAt.toISOString()})` },
    ]);
  }

  em.assign(problem, { status: 'RESOLVED', resolvedAt, updatedAt: now });
  await em.flush();
  await problemStatusChanged(em, origin, tenantId, problem, 'resolved');
  return problemView(problem);
}

/** Marks a RESOLVED problem as having come back. */
export async function recordProblemRecurrence(
  em: EntityManager,
  tenantId: string,
  id: string,
  now: Date,
  origin: EventOrigin,
): Promise<ProblemView> {
  const problem = await lockProblem(em, id);
  if (problem.status !== 'RESOLVED') {
    throw HmsError.conflict(`Problem ${id} is ${problem.status}; only a RESOLVED problem can recur.`, {
      status: problem.status,
    });
  }
  em.assign(problem, { status: 'RECURRENCE', resolvedAt: null, updatedAt: now });
  await em.flush();
  await problemStatusChanged(em, origin, tenantId, problem, 'recurred');
  return problemView(problem);
}

/** Locks a problem for a status change, so two concurrent changes apply one after the other. */
async function lockProblem(em: EntityManager, id: string): Promise<Problem> {
  const problem = await em.findOne(Problem, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!problem) throw HmsError.notFound('Problem', id);
  return problem;
}

/** Loads problems by id in one query. */
export async function loadProblems(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, ProblemView>> {
  const problems = ids.length ? await em.find(Problem, { id: { $in: [...new Set(ids)] } }) : [];
  return new Map(problems.map((problem) => [problem.id, problemView(problem)]));
}

/** Reads the problems of many patients in one query, newest onset first and those without onset last. */
export async function problemsOf(
  em: EntityManager,
  patientIds: readonly string[],
): Promise<Map<string, ProblemView[]>> {
  const problems = await em.find(
    Problem,
    { patientId: { $in: [...patientIds] } },
    { orderBy: { patientId: 'asc', onsetAt: 'desc nulls last', id: 'desc' } },
  );
  const result = new Map<string, ProblemView[]>();
  for (const problem of problems) {
    const list = result.get(problem.patientId) ?? [];
    list.push(problemView(problem));
    result.set(problem.patientId, list);
  }
  return result;
}
