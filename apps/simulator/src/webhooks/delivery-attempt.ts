/** One attempt to deliver a webhook event, v2 or v3, as the dashboard's delivery log shows it. */
export interface DeliveryAttemptRecord {
  /** Wall-clock ms when the attempt finished. */
  readonly at: number;
  readonly version: 'v2' | 'v3';
  readonly webhookId: string;
  readonly clientId: string;
  readonly url: string;
  /** `verify`, `eventBased`, `schedule` (v2); `VERIFY`, `VEHICLE_STATE`, `VEHICLE_ERROR` (v3). */
  readonly eventType: string;
  /** What happened, e.g. the v2 charging event (`CHARGING_STARTED`) or the v3 trigger. */
  readonly detail: string | null;
  /** Retries of one event keep its id. */
  readonly eventId: string | null;
  readonly attempt: number;
  readonly maxAttempts: number;
  /** HTTP status of the receiver's answer; `null` when it did not answer (refused, timed out). */
  readonly status: number | null;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Whether another attempt of the same event follows. */
  readonly willRetry: boolean;
}

export type DeliveryAttemptListener = (attempt: DeliveryAttemptRecord) => void;

/** Calls every listener; one that throws does not stop deliveries or the other listeners. */
export function emitAttempt(
  listeners: readonly DeliveryAttemptListener[],
  attempt: DeliveryAttemptRecord,
  warn: (message: string) => void,
): void {
  for (const listener of listeners) {
    try {
      listener(attempt);
    } catch (error) {
      warn(`delivery listener failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
