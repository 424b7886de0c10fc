import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '@voltkit/simulator';

let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator();
});

afterAll(async () => {
  await sim.close();
});

describe('/favicon.ico', () => {
  it('answers 204 with nothing in it, not a JSON 404, so Connect pages leave a clean console', async () => {
    const response = await fetch(`${sim.url}/favicon.ico`);
    expect(response.status).toBe(204);
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe('');
  });
});
