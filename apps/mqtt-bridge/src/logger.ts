import { pino } from 'pino';
import type { Logger as PinoLogger, LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

/** Redacts credential-looking keys wherever they appear, so secrets never reach a log line. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({
    name: 'voltkit-mqtt-bridge',
    level,
    redact: {
      paths: [
        'password',
        '*.password',
        'clientSecret',
        '*.clientSecret',
        'accessToken',
        '*.accessToken',
        'refreshToken',
        '*.refreshToken',
        'token',
        '*.token',
      ],
      censor: '***',
    },
  });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
