import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulator } from '@voltkit/simulator';
import { describe, expect, it } from 'vitest';
import { validateDeviceDiscovery } from '../src/ha-discovery-schema.ts';
import { Probe, uniqueBase } from './helpers.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('main: the bridge from env config', () => {
  it('starts an embedded broker, serves its Connect page and bridges a car connected through it', async () => {
    const sim = await createSimulator();
    const brokerPort = await freePort();
    const connectPort = await freePort();
    const base = uniqueBase('main');
    const child = spawn(
      process.execPath,
      // The built bridge under plain node, as `voltkit-mqtt-bridge` runs it (turbo builds before testing).
      [fileURLToPath(new URL('../bin/voltkit-mqtt-bridge.mjs', import.meta.url))],
      {
        env: {
          ...process.env,
          SMARTCAR_CLIENT_ID: sim.demoApp.clientId,
          SMARTCAR_CLIENT_SECRET: sim.demoApp.clientSecret,
          SMARTCAR_API_ORIGIN: sim.url,
          VOLTKIT_TOKEN_STORE: join(mkdtempSync(join(tmpdir(), 'vk-main-')), 'tokens.json'),
          VOLTKIT_CONNECT_PORT: String(connectPort),
          VOLTKIT_CONNECT_MODE: 'simulated',
          VOLTKIT_EMBEDDED_BROKER_PORT: String(brokerPort),
          VOLTKIT_BASE_TOPIC: base,
          VOLTKIT_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 15_000;
      while (!output.includes('connect a vehicle:') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain(`mqtt://127.0.0.1:${brokerPort} (embedded aedes, MQTT 3.1.1)`);
      expect(output).toContain(`${base}/bridge/state`);
      expect(output).not.toContain(sim.demoApp.clientSecret);

      const probe = await Probe.connect({ url: `mqtt://127.0.0.1:${brokerPort}`, protocolVersion: 4 });
      await probe.subscribe([`${base}/#`, 'homeassistant/device/#']);
      await probe.waitFor((m) => m.topic === `${base}/bridge/state` && m.payload === 'online');

      // The owner opens the page, goes through Connect (here the simulator's authorize shortcut) and comes back.
      const html = await (await fetch(`http://127.0.0.1:${connectPort}/`)).text();
      const authUrl = new URL(/href="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&'));
      const state = authUrl.searchParams.get('state')!;
      const redirectUri = authUrl.searchParams.get('redirect_uri')!;
      expect(redirectUri).toBe(`http://127.0.0.1:${connectPort}/callback`);
      const { code, vehicleIds } = sim.authorize({
        clientId: sim.demoApp.clientId,
        redirectUri,
        scope: authUrl.searchParams
          .get('scope')!
          .split(' ')
          .map((s) => s.replace(/^required:/, '')),
        email: 'owner@example.com',
        make: 'TESLA',
        state,
      });
      const callback = await fetch(`${redirectUri}?code=${code}&state=${state}`);
      expect(callback.status).toBe(200);
      const vin = sim.vehicle(vehicleIds[0]!).vin;
      const config = await probe.waitFor((m) => m.topic === `homeassistant/device/${base}_${vin}/config`, {
        timeoutMs: 8000,
      });
      expect(validateDeviceDiscovery(JSON.parse(config.payload))).toEqual({ success: true });
      await probe.waitFor((m) => m.topic === `${base}/${vin}/soc`);
      // A forged callback (unknown state) is refused.
      expect((await fetch(`${redirectUri}?code=${code}&state=forged`)).status).toBe(400);
      await probe.close();
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await sim.close();
    }
  });
});
