import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (compiled files live in sdk/node/dist/<dir>/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
