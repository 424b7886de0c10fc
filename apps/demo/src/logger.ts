import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Logs go to stderr (stdout carries what the demo prints for people); credentials are redacted. */
export function createDemoLogger(level: LevelWithSilent): Logger {
  return pino(
    {
      name: 'voltkit-demo',
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
    },
    pino.destination(2),
  );
}
