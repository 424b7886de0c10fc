/**
 * voltkit-plan: plan charging for a scenario file and write the plan (`voltkit-plan --help`).
 * The program itself is cli-program.ts, so tests run it in-process.
 */
import { runPlanCli } from './cli-program.ts';

process.exitCode = runPlanCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
});
