import {
  inTenantTransaction,
  requirePermission,
  requireTenant,
  type MikroORM,
  type SubgraphContext,
} from '@hms/service-kit';
import type { VitalSignKind } from '../entities/vital-sign.js';
import { ageBetween, localDateOf } from '../patients/age.js';
import { auditPatientReads } from '../patients/events.js';
import { ageSettings } from '../patients/store.js';
import { assertUuid } from '../records/input.js';
import { patientFieldLoader } from '../records/loader.js';
import type { RecordVitalSignsInput } from './inputs.js';
import {
  growthMeasurementsOf,
  latestVitalsOf,
  vitalSignPageQuery,
  vitalSignPagesOf,
  type VitalSignPageArguments,
} from './reads.js';
import { loadPanels, markVitalSignsEnteredInError, recordVitalSigns } from './store.js';
import type { VitalSignView } from './view.js';

export const VITALS_READ = 'vitals:read';
export const VITALS_WRITE = 'vitals:write';

/** The LatestVitals field of each kind. */
const LATEST_FIELD: Record<VitalSignKind, string> = {
  BODY_TEMPERATURE: 'bodyTemperature',
  HEART_RATE: 'heartRate',
  RESPIRATORY_RATE: 'respiratoryRate',
  SYSTOLIC_BLOOD_PRESSURE: 'systolicBloodPressure',
  DIASTOLIC_BLOOD_PRESSURE: 'diastolicBloodPressure',
  OXYGEN_SATURATION: 'oxygenSaturation',
  BODY_HEIGHT: 'bodyHeight',
  BODY_WEIGHT: 'bodyWeight',
  BODY_MASS_INDEX: 'bodyMassIndex',
  HEAD_CIRCUMFERENCE: 'headCircumference',
};

const GROWTH_FIELD: Partial<
  Record<VitalSignKind, 'bodyHeight' | 'bodyWeight' | 'bodyMassIndex' | 'headCircumference'>
> = {
  BODY_HEIGHT: 'bodyHeight',
  BODY_WEIGHT: 'bodyWeight',
  BODY_MASS_INDEX: 'bodyMassIndex',
  HEAD_CIRCUMFERENCE: 'headCircumference',
};

interface GrowthPointView {
  measurementId: string;
  effectiveAt: Date;
  value: number;
  unit: string;
  ageAtMeasurement: ReturnType<typeof ageBetween>;
}

type GrowthChartView = Record<
  'bodyHeight' | 'bodyWeight' | 'bodyMassIndex' | 'headCircumference',
  GrowthPointView[]
>;

const emptyGrowth = (): GrowthChartView => ({
  bodyHeight: [],
  bodyWeight: [],
  bodyMassIndex: [],
  headCircumference: [],
});

/** Resolvers of the vital signs schema; each checks its permission, then works in one tenant transaction. */
export function observationResolvers(orm: MikroORM) {
  return {
    Query: {
      vitalSignsPanel: async (_: unknown, args: { id: string }, context: SubgraphContext) => {
        requirePermission(context, VITALS_READ);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a vital signs panel');
        return inTenantTransaction(orm, tenantId, async (em) => {
          const panel = (await loadPanels(em, [args.id])).get(args.id) ?? null;
          if (panel) await auditPatientReads(em, context, tenantId, [panel.patientId]);
          return panel;
        });
      },
    },

    Mutation: {
      recordVitalSigns: async (
        _: unknown,
        args: { input: RecordVitalSignsInput },
        context: SubgraphContext,
      ) => {
        const principal = requirePermission(context, VITALS_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.input.patientId, 'input.patientId', 'a patient');
        return inTenantTransaction(orm, tenantId, (em) =>
          recordVitalSigns(em, tenantId, args.input, new Date(), context, principal.subject),
        );
      },

      markVitalSignsEnteredInError: async (
        _: unknown,
        args: { id: string; reason: string },
        context: SubgraphContext,
      ) => {
        const principal = requirePermission(context, VITALS_WRITE);
        const tenantId = requireTenant(context);
        assertUuid(args.id, 'id', 'a vital signs panel');
        return inTenantTransaction(orm, tenantId, (em) =>
          markVitalSignsEnteredInError(
            em,
            tenantId,
            args.id,
            args.reason,
            new Date(),
            context,
            principal.subject,
          ),
        );
      },
    },

    Patient: {
      latestVitals: async (patient: { id: string }, _: unknown, context: SubgraphContext) => {
        requirePermission(context, VITALS_READ);
        const tenantId = requireTenant(context);
        const latest = await patientFieldLoader(
          orm,
          context,
          tenantId,
          'latestVitals',
          (em, ids) => latestVitalsOf(em, tenantId, ids),
          () => new Map<VitalSignKind, VitalSignView>(),
        ).load(patient.id);
        const result: Record<string, VitalSignView | null> = {};
        for (const [kind, field] of Object.entries(LATEST_FIELD)) {
          result[field] = latest.get(kind as VitalSignKind) ?? null;
        }
        return result;
      },

      vitalSigns: async (patient: { id: string }, args: VitalSignPageArguments, context: SubgraphContext) => {
        requirePermission(context, VITALS_READ);
        const tenantId = requireTenant(context);
        const query = vitalSignPageQuery(args);
        // One loader per distinct set of arguments, since a batch shares one query.
        const key = JSON.stringify([query.code, query.from, query.to, query.size, query.after]);
        return patientFieldLoader(
          orm,
          context,
          tenantId,
          `vitalSigns:${key}`,
          (em, ids) => vitalSignPagesOf(em, tenantId, ids, query),
          () => ({
            edges: [],
            totalCount: 0,
            pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
          }),
        ).load(patient.id);
      },

      growth: async (patient: { id: string; birthDate: string }, _: unknown, context: SubgraphContext) => {
        requirePermission(context, VITALS_READ);
        const tenantId = requireTenant(context);
        const { series, timeZone } = await patientFieldLoader(
          orm,
          context,
          tenantId,
          'growth',
          async (em, ids) => {
            const measurements = await growthMeasurementsOf(em, tenantId, ids);
            const { timeZone } = await ageSettings(em);
            return new Map([...measurements].map(([id, views]) => [id, { series: views, timeZone }]));
          },
          () => ({ series: [] as VitalSignView[], timeZone: 'UTC' }),
        ).load(patient.id);

        const chart = emptyGrowth();
        for (const view of series) {
          const field = GROWTH_FIELD[view.kind as VitalSignKind];
          if (!field) continue;
          chart[field].push({
            measurementId: view.id,
            effectiveAt: view.effectiveAt,
            value: view.value,
            unit: view.unit,
            ageAtMeasurement: ageBetween(patient.birthDate, localDateOf(view.effectiveAt, timeZone)),
          });
        }
        return chart;
      },
    },
  };
}
