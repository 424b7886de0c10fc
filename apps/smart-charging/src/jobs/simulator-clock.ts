/**
 * The clock of a simulator running elsewhere (another process), so a service instance acts on simulated
 * time: a night on an accelerated clock passes in minutes. It reads `GET /_simulator/clock` (mode, speed,
 * now) and runs on locally at that speed, re-reading now and then to stay in step.
 */
export interface FollowedClock {
  now(): Date;
  /** Simulated ms per wall ms, as last read (0: a manual clock, which moves only when re-read). */
  speed(): number;
  stop(): void;
}

export async function followSimulatorClock(options: {
  readonly origin: string;
  readonly managementToken: string;
  /** @default 500 (instances on one simulator stay within a fraction of a second of each other) */
  readonly resyncMs?: number;
  readonly fetch?: typeof fetch;
}): Promise<FollowedClock> {
  const fetchImpl = options.fetch ?? fetch;
  const url = new URL('/_simulator/clock', options.origin);
  let anchorSimMs = 0;
  let anchorWallMs = 0;
  let speed = 1;

  async function read(): Promise<void> {
    const sentAt = Date.now();
    const response = await fetchImpl(url, {
      headers: { authorization: `Bearer ${options.managementToken}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok)
      throw new Error(
        `simulator clock: ${url.origin} answered HTTP ${response.status} (check SIMULATOR_MANAGEMENT_TOKEN)`,
      );
    const body = (await response.json()) as { now?: unknown; speed?: unknown; mode?: unknown };
    const simMs = typeof body.now === 'string' ? Date.parse(body.now) : Number.NaN;
    if (!Number.isFinite(simMs) || typeof body.speed !== 'number')
      throw new Error(`simulator clock: ${url.origin} gave no clock reading`);
    const receivedAt = Date.now();
    // The reading was taken somewhere in the round trip: its middle is the best guess.
    const next = simMs + ((receivedAt - sentAt) / 2) * body.speed;
    // Never backwards: a later reading that lands a little behind the running estimate waits for it.
    const running = anchorWallMs === 0 ? next : anchorSimMs + (receivedAt - anchorWallMs) * speed;
    anchorSimMs = Math.max(next, running);
    anchorWallMs = receivedAt;
    speed = body.speed;
  }

  await read();
  const timer = setInterval(() => void read().catch(() => undefined), options.resyncMs ?? 500);
  timer.unref();
  return {
    now: () => new Date(anchorSimMs + (Date.now() - anchorWallMs) * speed),
    speed: () => speed,
    stop: () => clearInterval(timer),
  };
}
