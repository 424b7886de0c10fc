import { presentValue } from './reply.ts';

/** Reading `application/x-www-form-urlencoded` bodies as the server parses them. */

type FormBody = Record<string, string | string[] | undefined>;

/** A form field given once; a repeated field counts as absent. */
export function formValue(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as FormBody)[key];
  return Array.isArray(value) ? undefined : presentValue(value);
}

export function formValues(body: unknown, key: string): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const value = (body as FormBody)[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
