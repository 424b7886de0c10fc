import { createSimulator, type Simulator } from '@voltkit/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { followSimulatorClock } from './simulator-clock.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('followSimulatorClock', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('runs at the simulator’s accelerated speed and follows a change of speed', async () => {
    sim = await createSimulator({
      clock: { mode: 'accelerated', speed: 600 },
      managementToken: 'x'.repeat(32),
    });
    const clock = await followSimulatorClock({
      origin: sim.url,
      managementToken: 'x'.repeat(32),
      resyncMs: 100,
    });
    try {
      expect(clock.speed()).toBe(600);
      await sleep(500);
      // Within 200 wall ms (× 600) of the simulator's own reading, while 0.5 s at ×1 would be 300 s behind.
      expect(Math.abs(clock.now().getTime() - sim.clock.now().getTime())).toBeLessThan(200 * 600);
      sim.clock.setSpeed(60);
      await sleep(400);
      expect(clock.speed()).toBe(60);
      expect(Math.abs(clock.now().getTime() - sim.clock.now().getTime())).toBeLessThan(200 * 600);
    } finally {
      clock.stop();
    }
  });

  it('says which variable to check when the management token is wrong', async () => {
    sim = await createSimulator({ clock: { mode: 'manual' }, managementToken: 'y'.repeat(32) });
    await expect(followSimulatorClock({ origin: sim.url, managementToken: 'wrong' })).rejects.toThrow(
      /HTTP 401 \(check SIMULATOR_MANAGEMENT_TOKEN\)/,
    );
  });
});
