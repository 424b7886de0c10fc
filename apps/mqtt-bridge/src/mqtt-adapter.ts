import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { MqttConfig } from './config.ts';
import type { Logger } from './logger.ts';

/** A message as the bridge sees it: mqtt.js details stay behind this adapter. */
export interface MqttMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /**
   * Retained messages the broker replays at subscribe time; on MQTT 5 subscriptions with retain-as-published
   * also live messages their sender published retained.
   */
  readonly retain: boolean;
  readonly qos: 0 | 1 | 2;
  /** MQTT 5 request/response: where the sender wants the answer, with its correlation data. */
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
}

export interface PublishOptions {
  readonly qos?: 0 | 1;
  readonly retain?: boolean;
  /** MQTT 5 only: the broker drops the message after this many seconds. */
  readonly messageExpirySeconds?: number;
  readonly contentType?: string;
  readonly correlationData?: Buffer;
}

export interface SubscribeOptions {
  readonly qos: 0 | 1;
  /** Do not deliver retained messages at subscribe time (MQTT 5 retain handling 2; 3.1.1 relies on the flag). */
  readonly skipRetained?: boolean;
  /** MQTT 5 only: keep the retain flag of live messages as the sender set it (3.1.1 clears it). */
  readonly retainAsPublished?: boolean;
}

export interface ConnectInfo {
  readonly sessionPresent: boolean;
  /** 1 for the first connection, then counts reconnects. */
  readonly connectionNumber: number;
}

export type Unsubscribe = () => void;

export interface MqttConnection {
  readonly protocolVersion: 4 | 5;
  readonly clientId: string;
  isConnected(): boolean;
  /**
   * Publishes and resolves once the broker acknowledged (QoS 1) or the packet was written (QoS 0).
   * Resolves `false` instead of throwing when the client is offline: the caller republishes from its
   * cache on the next connect, so a stale queued copy would only race the fresh one.
   */
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<boolean>;
  subscribe(filters: readonly string[], options: SubscribeOptions): Promise<void>;
  unsubscribe(filters: readonly string[]): Promise<void>;
  onMessage(handler: (message: MqttMessage) => void | Promise<void>): Unsubscribe;
  /** Runs on the first connect and on every reconnect. */
  onConnect(handler: (info: ConnectInfo) => void | Promise<void>): Unsubscribe;
  onDisconnect(handler: () => void): Unsubscribe;
  /** Publishes `finalMessages` (e.g. bridge offline), then disconnects cleanly so the last will does not fire. */
  close(
    finalMessages?: ReadonlyArray<{ topic: string; payload: string; options?: PublishOptions }>,
  ): Promise<void>;
}

export interface MqttConnectionOptions extends Pick<
  MqttConfig,
  | 'protocolVersion'
  | 'clientId'
  | 'username'
  | 'password'
  | 'tls'
  | 'keepaliveSeconds'
  | 'reconnectMs'
  | 'commandQueueSeconds'
> {
  readonly url: string;
  readonly will?: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
  readonly logger: Logger;
}

function tlsOptions(tls: MqttConfig['tls']): Partial<IClientOptions> {
  const options: Partial<IClientOptions> = { rejectUnauthorized: !tls.insecure };
  if (tls.caFile) options.ca = readFileSync(tls.caFile);
  if (tls.certFile) options.cert = readFileSync(tls.certFile);
  if (tls.keyFile) options.key = readFileSync(tls.keyFile);
  if (tls.servername) options.servername = tls.servername;
  return options;
}

/** Connects once with a clean session and leaves: wipes whatever a previous run left queued for this client id. */
async function wipeOldSession(url: string, options: IClientOptions): Promise<void> {
  const client = mqtt.connect(url, {
    ...options,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    will: undefined,
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3500);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('connect', done);
    client.once('error', done);
    client.once('close', done);
  });
  await client.endAsync(true).catch(() => undefined);
}

/**
 * Opens a broker connection. Never rejects because the broker is down: mqtt.js keeps retrying every
 * `reconnectMs` (brokers often start after the bridge), and `onConnect` handlers run on every connect.
 *
 * Sessions: the first connection always starts clean, so nothing queued before a restart is replayed.
 * Later reconnects resume the session so QoS 1 commands published during a short outage still arrive:
 * MQTT 5 bounds that with the session expiry (`commandQueueSeconds`); MQTT 3.1.1 has no expiry, so the
 * old session is wiped with a throwaway clean connect before the persistent one is opened, and a reconnect
 * after an outage longer than `commandQueueSeconds` starts clean (the outage after that one is then not
 * covered, the price of never executing a stale command).
 */
export async function createMqttConnection(options: MqttConnectionOptions): Promise<MqttConnection> {
  const { logger } = options;
  const persistent = options.commandQueueSeconds > 0;
  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    protocolVersion: options.protocolVersion,
    keepalive: options.keepaliveSeconds,
    reconnectPeriod: options.reconnectMs,
    connectTimeout: 30_000,
    resubscribe: true,
    queueQoSZero: false,
    reconnectOnConnackError: false,
    clean: true,
    ...tlsOptions(options.tls),
  };
  if (options.username) clientOptions.username = options.username;
  if (options.password) clientOptions.password = options.password;
  if (options.will) clientOptions.will = { ...options.will, payload: Buffer.from(options.will.payload) };
  if (options.protocolVersion === 5) {
    clientOptions.properties = { sessionExpiryInterval: persistent ? options.commandQueueSeconds : 0 };
  }
  if (persistent && options.protocolVersion === 4) {
    await wipeOldSession(options.url, clientOptions);
    clientOptions.clean = false;
  }

  const client: MqttClient = mqtt.connect(options.url, clientOptions);
  const messageHandlers = new Set<(message: MqttMessage) => void | Promise<void>>();
  const connectHandlers = new Set<(info: ConnectInfo) => void | Promise<void>>();
  const disconnectHandlers = new Set<() => void>();
  let connectionNumber = 0;
  let closing = false;

  const runHandler = (what: string, run: () => void | Promise<void>): void => {
    try {
      const result = run();
      if (result instanceof Promise)
        result.catch((error: unknown) => logger.error({ err: error }, `${what} handler failed`));
    } catch (error) {
      logger.error({ err: error }, `${what} handler failed`);
    }
  };

  let offlineSince: number | undefined;
  client.on('connect', (connack: IConnackPacket) => {
    connectionNumber += 1;
    offlineSince = undefined;
    // Resume the session on every reconnect from now on (see the doc comment above).
    if (persistent) client.options.clean = false;
    logger.info({ sessionPresent: connack.sessionPresent, connectionNumber }, 'mqtt connected');
    const info: ConnectInfo = { sessionPresent: connack.sessionPresent, connectionNumber };
    for (const handler of connectHandlers) runHandler('connect', () => handler(info));
  });
  client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    const properties = packet.properties;
    const message: MqttMessage = {
      topic,
      payload,
      retain: packet.retain,
      qos: packet.qos,
      ...(properties?.responseTopic ? { responseTopic: properties.responseTopic } : {}),
      ...(properties?.correlationData ? { correlationData: properties.correlationData } : {}),
    };
    for (const handler of messageHandlers) runHandler('message', () => handler(message));
  });
  client.on('close', () => {
    offlineSince ??= Date.now();
    if (!closing) logger.warn('mqtt connection closed');
    for (const handler of disconnectHandlers) runHandler('disconnect', handler);
  });
  client.on('reconnect', () => {
    // MQTT 3.1.1 sessions never expire: after a long outage, start clean rather than execute commands
    // that waited in the broker for longer than `commandQueueSeconds` (MQTT 5 lets the broker expire them).
    if (persistent && options.protocolVersion === 4 && offlineSince !== undefined) {
      client.options.clean = Date.now() - offlineSince > options.commandQueueSeconds * 1000;
    }
    logger.debug('mqtt reconnecting');
  });
  client.on('offline', () => logger.warn('mqtt offline'));
  client.on('error', (error: Error) =>
    logger.error({ err: { message: error.message, code: (error as { code?: unknown }).code } }, 'mqtt error'),
  );
  client.on('disconnect', (packet) =>
    logger.warn({ reasonCode: packet.reasonCode }, 'mqtt broker sent DISCONNECT'),
  );

  const publish = (
    topic: string,
    payload: string | Buffer,
    publishOptions: PublishOptions = {},
  ): Promise<boolean> => {
    if (!client.connected) return Promise.resolve(false);
    const opts: IClientPublishOptions = {
      qos: publishOptions.qos ?? 1,
      retain: publishOptions.retain ?? false,
    };
    if (options.protocolVersion === 5) {
      const properties: NonNullable<IClientPublishOptions['properties']> = {};
      if (publishOptions.messageExpirySeconds !== undefined)
        properties.messageExpiryInterval = publishOptions.messageExpirySeconds;
      if (publishOptions.contentType) properties.contentType = publishOptions.contentType;
      if (publishOptions.correlationData) properties.correlationData = publishOptions.correlationData;
      if (Object.keys(properties).length > 0) opts.properties = properties;
    }
    return new Promise((resolve) => {
      client.publish(topic, payload, opts, (error) => {
        if (error) logger.debug({ topic, err: { message: error.message } }, 'publish not completed');
        resolve(!error);
      });
    });
  };

  return {
    protocolVersion: options.protocolVersion,
    clientId: options.clientId,
    isConnected: () => client.connected,
    publish,
    async subscribe(filters, subscribeOptions) {
      if (filters.length === 0) return;
      const map: Record<string, { qos: 0 | 1; rh?: number; rap?: boolean }> = {};
      const v5 = options.protocolVersion === 5;
      for (const filter of filters) {
        map[filter] = {
          qos: subscribeOptions.qos,
          ...(subscribeOptions.skipRetained && v5 ? { rh: 2 } : {}),
          ...(subscribeOptions.retainAsPublished && v5 ? { rap: true } : {}),
        };
      }
      await client.subscribeAsync(map);
    },
    async unsubscribe(filters) {
      if (filters.length > 0) await client.unsubscribeAsync([...filters]);
    },
    onMessage(handler) {
      messageHandlers.add(handler);
      return () => messageHandlers.delete(handler);
    },
    onConnect(handler) {
      connectHandlers.add(handler);
      return () => connectHandlers.delete(handler);
    },
    onDisconnect(handler) {
      disconnectHandlers.add(handler);
      return () => disconnectHandlers.delete(handler);
    },
    async close(finalMessages = []) {
      if (client.connected) {
        await Promise.all(finalMessages.map((m) => publish(m.topic, m.payload, m.options)));
      }
      closing = true;
      // force=true when offline: nothing to flush and a graceful end would wait for a connection.
      await client.endAsync(!client.connected);
    },
  };
}
