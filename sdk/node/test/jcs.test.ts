import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "../src/jcs.js";

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
