import { z } from 'zod';

/** What a change that re-plans answers with: the units planned, or why planning failed. */
export const ReplanReportSchema = z.union([
  z.object({
    ok: z.literal(true),
    planId: z.string(),
    plans: z.array(z.object({ unit: z.string(), planId: z.string() })),
    skipped: z.array(z.object({ vehicleId: z.string(), reason: z.string() })),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
