import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { canonicalJson } from "../src/jcs.js";
import { repoRoot } from "../testsupport/paths.js";

test("object members are sorted by UTF-16 code units, at every depth", () => {
  const value = { "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, "1": 4, b: { z: true, a: null }, a: [{ y: 1, x: 2 }] };
  assert.equal(canonicalJson(value), '{"\\r":2,"1":4,"a":[{"x":2,"y":1}],"b":{"a":null,"z":true},"\u20ac":1,"\ud83d\ude00":3}');
});

test("numbers take ECMAScript's shortest round-trip form", () => {
  assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1, 100, 333333333.33333329, 4.5e-324]), "[1e+21,1e-7,0,0.1,100,333333333.3333333,5e-324]");
});

test("strings use JSON's minimal escapes and keep other characters as they are", () => {
  assert.equal(canonicalJson("a\"\\\b\f\n\r\t\u0001\u007f\u20ac"), '"a\\"\\\\\\b\\f\\n\\r\\t\\u0001\u007f\u20ac"');
});

test("members whose value is undefined are left out, as JSON.stringify does", () => {
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
});

test("values JSON cannot represent are refused", () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1n, () => 1, Symbol("s"), undefined, [undefined]]) {
    assert.throws(() => canonicalJson(bad), TypeError);
  }
});

/** A small seeded generator (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(next: () => number): string {
  const pools = [[0x00, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff]] as const;
  let text = "";
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    const [low, high] = pools[Math.floor(next() * pools.length)]!;
    text += String.fromCodePoint(low + Math.floor(next() * (high - low + 1)));
  }
  return text;
}

function randomValue(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 2 ? 4 : 6));
  if (kind === 0) return [null, true, false][Math.floor(next() * 3)];
  if (kind === 1) return randomString(next);
  if (kind === 2) return Math.floor((next() - 0.5) * 2 ** 53);
  if (kind === 3) return (next() - 0.5) * 10 ** Math.floor(next() * 60 - 30);
  if (kind === 4) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) object[randomString(next)] = randomValue(next, depth + 1);
  return object;
}

test("property: the canonical text equals the server's JCS for random JSON values", () => {
  const seed = Date.now() % 1_000_000;
  const next = random(seed);
  const values = Array.from({ length: 300 }, () => randomValue(next, 0));
  const python = join(repoRoot, ".venv", "bin", "python");
  const server = spawnSync(python, ["-c", [
    "import json, sys",
    "from stripemeter_server.domain.json_text import canonicalize",
    "values = json.loads(sys.stdin.read())",
    "print(json.dumps([canonicalize(v).decode('utf-8') for v in values]))",
  ].join("\n")], { input: JSON.stringify(values), encoding: "utf8" });
  assert.equal(server.status, 0, server.stderr);
  const expected = JSON.parse(server.stdout) as string[];
  values.forEach((value, i) => assert.equal(canonicalJson(value), expected[i], `seed ${seed}, value ${i}`));
});
