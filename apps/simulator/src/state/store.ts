import type {
  AccountRecord,
  AppRecord,
  AuthCodeRecord,
  ConnectSessionRecord,
  GrantRecord,
  Snapshot,
  TokenRecord,
  VehicleRecord,
  WebhookRecord,
} from './records.ts';

/**
 * The in-memory state, indexed for the request hot path (token → grant, vehicle id → vehicle).
 * It is the single source of truth; persistence only ever writes snapshots of it.
 */
export class SimulatorStore {
  readonly apps = new Map<string, AppRecord>();
  readonly appsByManagementToken = new Map<string, AppRecord>();
  readonly accounts = new Map<string, AccountRecord>();
  readonly accountsByEmail = new Map<string, AccountRecord>();
  readonly #vehicles = new Map<string, VehicleRecord>();
  // A fleet bench holds 100,000 cars: a scan of all of them per Connect or lookup made enrolling quadratic.
  readonly #vehiclesByAccount = new Map<string, VehicleRecord[]>();
  readonly #vehiclesByVin = new Map<string, VehicleRecord>();
  readonly grants = new Map<string, GrantRecord>();
  readonly codes = new Map<string, AuthCodeRecord>();
  readonly accessTokens = new Map<string, TokenRecord>();
  readonly refreshTokens = new Map<string, TokenRecord>();
  readonly spentRefreshTokens = new Map<string, TokenRecord>();
  readonly connectSessions = new Map<string, ConnectSessionRecord>();
  readonly webhooks = new Map<string, WebhookRecord>();
  #onChange: () => void = () => {};

  /** Called after every mutation; persistence hooks in here (debounced). */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  changed(): void {
    this.#onChange();
  }

  addApp(app: AppRecord): void {
    this.apps.set(app.clientId, app);
    this.appsByManagementToken.set(app.managementToken, app);
  }

  addAccount(account: AccountRecord): void {
    this.accounts.set(account.id, account);
    this.accountsByEmail.set(account.email.toLowerCase(), account);
  }

  /** Every vehicle by id; add them with `addVehicle`, which keeps the lookups below in step. */
  get vehicles(): ReadonlyMap<string, VehicleRecord> {
    return this.#vehicles;
  }

  addVehicle(vehicle: VehicleRecord): void {
    this.#vehicles.set(vehicle.id, vehicle);
    const ofAccount = this.#vehiclesByAccount.get(vehicle.accountId);
    if (ofAccount) ofAccount.push(vehicle);
    else this.#vehiclesByAccount.set(vehicle.accountId, [vehicle]);
    // The first car with a VIN is the one found by it, as a scan in creation order would.
    if (!this.#vehiclesByVin.has(vehicle.vin)) this.#vehiclesByVin.set(vehicle.vin, vehicle);
  }

  /** The account's vehicles in the order they were created. */
  vehiclesOfAccount(accountId: string): VehicleRecord[] {
    return [...(this.#vehiclesByAccount.get(accountId) ?? [])];
  }

  findVehicleByVin(vin: string): VehicleRecord | undefined {
    return this.#vehiclesByVin.get(vin.toUpperCase());
  }

  /** Drop every token of a grant (disconnect of its last vehicle, or a management delete). */
  revokeGrant(grantId: string): void {
    this.grants.delete(grantId);
    for (const [token, record] of this.accessTokens)
      if (record.grantId === grantId) this.accessTokens.delete(token);
    for (const [token, record] of this.refreshTokens)
      if (record.grantId === grantId) this.refreshTokens.delete(token);
    for (const [token, record] of this.spentRefreshTokens)
      if (record.grantId === grantId) this.spentRefreshTokens.delete(token);
    for (const [code, record] of this.codes) if (record.grantId === grantId) this.codes.delete(code);
  }

  /** Forget expired codes and tokens so the snapshot does not grow without bound. */
  pruneExpired(now: number): void {
    for (const [key, r] of this.codes) if (r.expiresAt <= now) this.codes.delete(key);
    for (const [key, r] of this.accessTokens) if (r.expiresAt <= now) this.accessTokens.delete(key);
    for (const [key, r] of this.refreshTokens) if (r.expiresAt <= now) this.refreshTokens.delete(key);
    for (const [key, r] of this.spentRefreshTokens)
      if (r.expiresAt <= now) this.spentRefreshTokens.delete(key);
  }

  toSnapshot(clockMs: number): Snapshot {
    return {
      version: 1,
      savedAt: Date.now(),
      clockMs,
      apps: [...this.apps.values()],
      accounts: [...this.accounts.values()],
      vehicles: [...this.vehicles.values()],
      grants: [...this.grants.values()],
      codes: [...this.codes.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
      spentRefreshTokens: [...this.spentRefreshTokens.values()],
      connectSessions: [...this.connectSessions.values()],
      webhooks: [...this.webhooks.values()],
    };
  }

  static fromSnapshot(snapshot: Snapshot): SimulatorStore {
    const store = new SimulatorStore();
    for (const app of snapshot.apps) store.addApp(app);
    for (const account of snapshot.accounts) store.addAccount(account);
    for (const v of snapshot.vehicles) store.addVehicle(v);
    for (const g of snapshot.grants) store.grants.set(g.id, g);
    for (const c of snapshot.codes) store.codes.set(c.code, c);
    for (const t of snapshot.accessTokens) store.accessTokens.set(t.token, t);
    for (const t of snapshot.refreshTokens) store.refreshTokens.set(t.token, t);
    for (const t of snapshot.spentRefreshTokens) store.spentRefreshTokens.set(t.token, t);
    for (const s of snapshot.connectSessions) store.connectSessions.set(s.id, s);
    for (const w of snapshot.webhooks) store.webhooks.set(w.id, w);
    return store;
  }
}
