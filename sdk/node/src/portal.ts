/**
 * `client.portal`: mint and revoke customer portal tokens, server side.
 *
 * A portal token lets a customer's browser read that one customer's usage (the server's
 * docs/portal.md). Mint it on your server with a key holding the `admin` or `portal`
 * scope and hand only the token to the browser, never the key.
 */
import { ValidationError } from "./errors.js";

/** What `client.portal` needs of the client: its request method. */
export interface PortalRequester {
  request<T>(method: string, path: string, options?: { body?: unknown }): Promise<T>;
}

export interface CreatePortalTokenOptions {
  customerRef: string;
  /** Only these metrics (and totals over them); every metric when omitted. */
  metrics?: string[];
  /** `usage:read` (always granted) and `alerts:write`. */
  scopes?: string[];
  /** Lifetime in seconds, 60 to 86_400 (the server's default is 3_600). */
  expiresIn?: number;
}

export interface PortalToken {
  id: string;
  /** The bearer string for the browser, shown once. */
  token: string;
  customerRef: string;
  metrics: string[] | null;
  scopes: string[];
  mintedBy: string;
  createdAt: string;
  expiresAt: string;
}

export class PortalApi {
  constructor(private readonly client: PortalRequester) {}

  /** Mint a token for one customer (POST /v1/portal/tokens). */
  createToken(options: CreatePortalTokenOptions): Promise<PortalToken> {
    if (typeof options?.customerRef !== "string" || options.customerRef === "") {
      throw new ValidationError("customerRef must be a non-empty string", "customerRef");
    }
    const body: Record<string, unknown> = { customerRef: options.customerRef };
    if (options.metrics !== undefined) body["metrics"] = options.metrics;
    if (options.scopes !== undefined) body["scopes"] = options.scopes;
    if (options.expiresIn !== undefined) body["expiresIn"] = options.expiresIn;
    return this.client.request<PortalToken>("POST", "/v1/portal/tokens", { body });
  }

  /** Revoke a token at once (DELETE /v1/portal/tokens/{id}). */
  async revokeToken(id: string): Promise<void> {
    if (typeof id !== "string" || id === "") throw new ValidationError("id must be a non-empty string", "id");
    await this.client.request<unknown>("DELETE", `/v1/portal/tokens/${encodeURIComponent(id)}`);
  }
}
