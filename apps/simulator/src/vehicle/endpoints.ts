import {
  normalizeVehiclePath,
  VEHICLE_ENDPOINTS,
  type EndpointDefinition,
  type VehicleEndpointName,
} from '@voltkit/core/permissions';

export interface ResolvedEndpoint {
  readonly name: VehicleEndpointName;
  readonly definition: EndpointDefinition;
  /** The normalized path below the vehicle (`''` for the vehicle itself). */
  readonly path: string;
  /** `{webhookId}` and similar template values. */
  readonly params: Readonly<Record<string, string>>;
}

const ENTRIES = Object.entries(VEHICLE_ENDPOINTS) as [VehicleEndpointName, EndpointDefinition][];
// Exact (method, path) pairs are looked up in a map: this runs on every request.
const EXACT = new Map<string, [VehicleEndpointName, EndpointDefinition]>();
const TEMPLATED: [VehicleEndpointName, EndpointDefinition, string[]][] = [];
for (const entry of ENTRIES) {
  const [, def] = entry;
  if (def.path.includes('{')) TEMPLATED.push([entry[0], def, def.path.split('/')]);
  else if (!EXACT.has(`${def.method} ${def.path}`)) EXACT.set(`${def.method} ${def.path}`, entry);
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
// Endpoints without parameters, by the method and raw path the client sent: every request resolves one,
// and clients send the same few. Bounded, so that made-up path variants cannot grow it without end.
const RESOLVED = new Map<string, Map<string, ResolvedEndpoint>>();
const MAX_RESOLVED = 1024;
let resolvedCount = 0;

function remember(method: string, rawPath: string, resolved: ResolvedEndpoint): void {
  if (resolvedCount >= MAX_RESOLVED) return;
  let byPath = RESOLVED.get(method);
  if (byPath === undefined) RESOLVED.set(method, (byPath = new Map<string, ResolvedEndpoint>()));
  byPath.set(rawPath, resolved);
  resolvedCount++;
}

/**
 * Finds the v2.0 vehicle endpoint for a method and a path below `/vehicles/{id}` (trailing slash and
 * missing leading slash tolerated). Shared routes (POST /security = lock or unlock) resolve to the
 * first name; both halves need the same scope and capability.
 */
export function resolveVehicleEndpoint(method: string, rawPath: string): ResolvedEndpoint | undefined {
  const known = RESOLVED.get(method)?.get(rawPath);
  if (known !== undefined) return known;
  const path = normalizeVehiclePath(rawPath);
  const upper = method.toUpperCase();
  const exact = EXACT.get(`${upper} ${path}`);
  if (exact !== undefined) {
    const resolved: ResolvedEndpoint = { name: exact[0], definition: exact[1], path, params: NO_PARAMS };
    remember(method, rawPath, resolved);
    return resolved;
  }
  const parts = path.split('/');
  for (const [name, def, templateParts] of TEMPLATED) {
    if (def.method !== upper || templateParts.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    templateParts.forEach((part, i) => {
      const actual = parts[i] ?? '';
      if (part.startsWith('{')) params[part.slice(1, -1)] = safeDecode(actual);
      else if (part !== actual) matches = false;
    });
    if (matches) return { name, definition: def, path, params };
  }
  return undefined;
}

/** The path a batch item echoes: always with a leading slash, `/` for the vehicle itself. */
export function batchPath(rawPath: string): string {
  const path = normalizeVehiclePath(rawPath);
  return path === '' ? '/' : path;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
