import { z } from 'zod';

/** `POST /oauth/token` success body. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}
export const TokenResponseSchema: z.ZodType<TokenResponse> = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1),
});

/** OAuth-style error from the token endpoint (`invalid_grant`, `invalid_client`, …). */
export interface OAuthErrorBody {
  error: string;
  error_description?: string | undefined;
}
export const OAuthErrorBodySchema: z.ZodType<OAuthErrorBody> = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** Form body of a token request. */
export type TokenRequest =
  | { grant_type: 'authorization_code'; code: string; redirect_uri?: string | undefined }
  | { grant_type: 'refresh_token'; refresh_token: string };
export const TokenRequestSchema: z.ZodType<TokenRequest> = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().min(1),
    // Only required when the authorize request carried one.
    redirect_uri: z.string().optional(),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1) }),
]);

/** What the client keeps per grant: tokens plus their absolute expiry. */
export interface Access {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires. */
  expiration: Date;
  /** When the refresh token expires (60 days after issue, computed client-side like the SDKs). */
  refreshExpiration: Date;
}
