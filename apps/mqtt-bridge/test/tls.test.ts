import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { createMqttConnection } from '../src/mqtt-adapter.ts';
import type { MqttConnection } from '../src/mqtt-adapter.ts';
import { uniqueBase } from './helpers.ts';
import { startPrivateMosquitto } from './stack.ts';

/** A private CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(
  dir: string,
): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCa', string> {
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  for (const ca of ['ca', 'other-ca']) {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${ca}`,
      '-keyout',
      f(`${ca}.key`),
      '-out',
      f(`${ca}.pem`),
    );
  }
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, ext] of [
    ['server', ['-extfile', f('san.ext')]],
    ['client', []],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${name}.pem`),
      ...ext,
    );
  }
  return {
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

async function connectedWithin(connection: MqttConnection, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!connection.isConnected() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return connection.isConnected();
}

describe('TLS, client certificates and broker authentication (private Mosquitto, MQTT 5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vk-tls-'));
  const certs = makeCertificates(dir);
  const passwords = join(dir, 'passwords');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwords, 'bridge', 'correct horse']);
  // Mosquitto started as root drops to its own user: let it read these throwaway test files.
  chmodSync(dir, 0o755);
  for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o644);
  let broker: Awaited<ReturnType<typeof startPrivateMosquitto>>;
  const base = uniqueBase('tls');

  beforeAll(async () => {
    broker = await startPrivateMosquitto({
      scheme: 'mqtts',
      listenerConf: [
        `cafile ${certs.ca}`,
        `certfile ${certs.serverCert}`,
        `keyfile ${certs.serverKey}`,
        'require_certificate true',
        'allow_anonymous false',
        `password_file ${passwords}`,
        '',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    await broker?.close();
  });

  const open = (
    name: string,
    tls: { caFile?: string; certFile?: string; keyFile?: string; insecure: boolean },
    password = 'correct horse',
  ) =>
    createMqttConnection({
      url: broker.url,
      protocolVersion: 5,
      clientId: `${base}_${name}`,
      username: 'bridge',
      password,
      tls,
      keepaliveSeconds: 30,
      reconnectMs: 5000,
      commandQueueSeconds: 0,
      logger: silentLogger(),
    });

  it('connects with the private CA, a client certificate and a password', async () => {
    const connection = await open('ok', {
      caFile: certs.ca,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      insecure: false,
    });
    expect(await connectedWithin(connection, 5000)).toBe(true);
    expect(await connection.publish(`${base}/x`, 'y')).toBe(true);
    await connection.close();
  });

  it('refuses a broker certificate from an unknown CA unless insecure is set', async () => {
    const strict = await open('strict', {
      caFile: certs.otherCa,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      insecure: false,
    });
    expect(await connectedWithin(strict, 1500)).toBe(false);
    await strict.close();
    const insecure = await open('insecure', {
      caFile: certs.otherCa,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      insecure: true,
    });
    expect(await connectedWithin(insecure, 5000)).toBe(true);
    await insecure.close();
  });

  it('is refused without a client certificate or with a wrong password', async () => {
    const noCert = await open('nocert', { caFile: certs.ca, insecure: false });
    expect(await connectedWithin(noCert, 1500)).toBe(false);
    await noCert.close();
    const wrongPassword = await open(
      'badpw',
      { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey, insecure: false },
      'wrong',
    );
    expect(await connectedWithin(wrongPassword, 1500)).toBe(false);
    await wrongPassword.close();
  });
});
