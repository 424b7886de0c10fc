/**
 * A grant's life: Connect started, tokens held, refused by the vehicle API, or past its refresh token.
 * A module of its own, without imports, so the browser's dashboard code can use it too.
 */
export const GRANT_STATUSES = ['pending', 'active', 'revoked', 'expired'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];
