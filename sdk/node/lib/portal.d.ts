/** What `client.portal` needs of the client: its request method. */
export interface PortalRequester {
    request<T>(method: string, path: string, options?: {
        body?: unknown;
    }): Promise<T>;
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
export declare class PortalApi {
    private readonly client;
    constructor(client: PortalRequester);
    /** Mint a token for one customer (POST /v1/portal/tokens). */
    createToken(options: CreatePortalTokenOptions): Promise<PortalToken>;
    /** Revoke a token at once (DELETE /v1/portal/tokens/{id}). */
    revokeToken(id: string): Promise<void>;
}
