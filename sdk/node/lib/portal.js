/**
 * `client.portal`: mint and revoke customer portal tokens, server side.
 *
 * A portal token lets a customer's browser read that one customer's usage (the server's
 * docs/portal.md). Mint it on your server with a key holding the `admin` or `portal`
 * scope and hand only the token to the browser, never the key.
 */
import { ValidationError } from "./errors.js";
export class PortalApi {
    client;
    constructor(client) {
        this.client = client;
    }
    /** Mint a token for one customer (POST /v1/portal/tokens). */
    createToken(options) {
        if (typeof options?.customerRef !== "string" || options.customerRef === "") {
            throw new ValidationError("customerRef must be a non-empty string", "customerRef");
        }
        const body = { customerRef: options.customerRef };
        if (options.metrics !== undefined)
            body["metrics"] = options.metrics;
        if (options.scopes !== undefined)
            body["scopes"] = options.scopes;
        if (options.expiresIn !== undefined)
            body["expiresIn"] = options.expiresIn;
        return this.client.request("POST", "/v1/portal/tokens", { body });
    }
    /** Revoke a token at once (DELETE /v1/portal/tokens/{id}). */
    async revokeToken(id) {
        if (typeof id !== "string" || id === "")
            throw new ValidationError("id must be a non-empty string", "id");
        await this.client.request("DELETE", `/v1/portal/tokens/${encodeURIComponent(id)}`);
    }
}
