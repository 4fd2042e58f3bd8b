import type { DriverOptions, RecordUsageInput, RecordUsageResult } from "./types.js";
/** The last API version with usage records (they were removed in 2025-03-31.basil). */
export declare const USAGE_RECORDS_API_VERSION = "2025-02-24.acacia";
export declare class StripeBillingDriverImpl {
    private readonly keys;
    private readonly clients;
    private readonly routes;
    private readonly usageApi;
    private readonly config;
    constructor(options?: DriverOptions);
    /** Records `quantity` for the item's period; see the README for the two APIs' semantics. */
    recordUsage(input: RecordUsageInput): Promise<RecordUsageResult>;
    private client;
    private route;
}
