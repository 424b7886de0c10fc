import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ChargePlanSource, ChargePlanWindow } from './vehicle-source.ts';

/**
 * `{ "<vehicle id>": { "start": ISO, "end": ISO, "cost": number, "currency": "EUR" } | null, … }`,
 * written by the smart-charging service (or anything else that plans charging).
 */
const ChargePlanFileSchema = z.record(
  z.string().min(1),
  z
    .object({
      start: z.iso.datetime({ offset: true }),
      end: z.iso.datetime({ offset: true }),
      // Negative day-ahead prices make a negative cost; null = unknown (a slot without a real price).
      cost: z.number().nullable(),
      currency: z.string().regex(/^[A-Z]{3}$/),
    })
    .nullable(),
);

/** Reads the next charge window per car from a JSON file; a missing file means "no plans yet". */
export function fileChargePlanSource(path: string): ChargePlanSource {
  return {
    async nextWindow(vehicleId): Promise<ChargePlanWindow | null> {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      const parsed = ChargePlanFileSchema.safeParse(JSON.parse(text));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(
          `${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid charge plan file'}`,
        );
      }
      const window = parsed.data[vehicleId];
      if (!window) return null;
      return {
        start: new Date(window.start),
        end: new Date(window.end),
        cost: window.cost,
        currency: window.currency,
      };
    },
  };
}
