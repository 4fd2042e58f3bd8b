// The same module as @stripemeter/sdk: StripeMeter's documentation imports it by this name.
export * from "../dist/src/index.js";
