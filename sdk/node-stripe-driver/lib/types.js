/** The driver's public types: the shape of StripeMeter's sample, plus the result it returns. */
export {};
