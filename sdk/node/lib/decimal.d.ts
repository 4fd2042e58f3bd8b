export type QuantityInput = number | string | bigint;
/** Normalise a decimal given as a string. Throws ValidationError when it is not a finite decimal. */
export declare function normalizeDecimalString(input: string): string;
/** Normalise a quantity given as a number, bigint or decimal string. */
export declare function normalizeQuantity(input: QuantityInput): string;
