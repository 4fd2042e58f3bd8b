// The same module as @stripemeter/sdk: StripeMeter's documentation imports it by this name.
// From a clone this resolves to the committed build beside it; `make sdk` packs a copy of
// this package that imports "@stripemeter/sdk" instead (see sdk/node/README.md).
export * from "../lib/index.js";
