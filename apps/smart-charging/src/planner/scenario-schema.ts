/** The scenario format as JSON Schema, generated from the zod schema (committed as scenario.schema.json). */
import { z } from 'zod';
import { ScenarioSchema } from './scenario.ts';

export const SCENARIO_SCHEMA_ID = 'https://voltkit.dev/schemas/voltkit-plan-scenario.schema.json';

/** JSON Schema (draft 2020-12) of what a scenario file may contain, as the CLI reads it. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ScenarioSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // Refinements (unique ids, one value per slot, parseable times) are checked by the CLI, not the schema.
    unrepresentable: 'any',
  });
  return {
    ...generated,
    $id: SCENARIO_SCHEMA_ID,
    title: 'voltkit-plan scenario',
    description:
      'A charging plan request for voltkit-plan; tariff prices, TOU schedules, base-load profile and vehicles may come from files read relative to the scenario. Generated from ScenarioSchema (src/planner/scenario.ts): regenerate with `voltkit-plan --schema > src/planner/scenario.schema.json` (then prettier --write it).',
  };
}
