/** End-to-end: every program in sdk/node/examples runs unchanged against a real server and prints OK. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../testsupport/paths.js";
import { ServerProcess, TestDatabase, freePort, shutdown } from "../testsupport/server.js";

const examples = join(repoRoot, "sdk", "node", "examples");
const programs = readdirSync(examples).filter((name) => name.endsWith(".mjs")).sort();
const db = new TestDatabase();
let server: ServerProcess;

before(async () => {
  server = new ServerProcess(db, await freePort(), "examples");
  await server.start();
});

after(async () => {
  await shutdown([server], db);
});

test("the examples directory has programs", () => {
  assert.ok(programs.length > 0, `no example programs in ${examples}`);
});

for (const program of programs) {
  test(`example ${program} prints OK`, () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("STRIPEMETER_")) env[k] = v;
    Object.assign(env, { STRIPEMETER_URL: server.url, STRIPEMETER_API_KEY: db.key, STRIPEMETER_TENANT: "default" });
    const run = spawnSync(process.execPath, [join(examples, program)], {
      cwd: join(repoRoot, "sdk", "node"), env, encoding: "utf8", timeout: 60_000,
    });
    const lastLine = run.stdout.trim().split("\n").slice(-1);
    assert.deepEqual([run.status, lastLine], [0, ["OK"]], run.stderr);
  });
}
