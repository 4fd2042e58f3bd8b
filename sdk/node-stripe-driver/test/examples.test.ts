/** Every program in examples/ runs unchanged against the Stripe emulator and prints OK. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Emulator } from "../testsupport/emulator.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const examples = join(packageDir, "examples");
const programs = readdirSync(examples).filter((name) => name.endsWith(".mjs")).sort();
let emulator: Emulator;

before(async () => {
  emulator = await Emulator.start();
});
after(() => emulator.stop());

test("the examples directory has programs", () => {
  assert.ok(programs.length > 0, `no example programs in ${examples}`);
});

for (const program of programs) {
  test(`example ${program} prints OK`, () => {
    const env = {
      ...process.env,
      STRIPE_API_BASE: emulator.url,
      STRIPE_SECRET_KEY: "sk_live_example_key",
      STRIPE_TEST_SECRET_KEY: "sk_test_example_key",
    };
    const run = spawnSync(process.execPath, [join(examples, program)], { cwd: packageDir, env, encoding: "utf8", timeout: 60_000 });
    assert.deepEqual([run.status, run.stdout.trim().split("\n").slice(-1)], [0, ["OK"]], run.stderr);
  });
}
