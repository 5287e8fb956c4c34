// The TypeScript SDK against the shared cases (sdk/status-cases.json,
// sdk/manifest-cases/) and its export runtime and paging, run with node's
// test runner on an esbuild bundle of the SDK's host-free modules:
//
//   cd sdk/js && npm ci && npm test

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import * as esbuild from "esbuild";
import { parse as toml } from "smol-toml";

import { Mistake, parse } from "../bin/manifest.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const sdk = join(here, "..", "..");

const out = join(mkdtempSync(join(tmpdir(), "patchbay-js-test-")), "sdk.mjs");
await esbuild.build({
  stdin: {
    contents: 'export * from "./src/errors.ts"; export * as paging from "./src/paging.ts"; export * as exports from "./src/exports.ts";',
    resolveDir: join(here, ".."),
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "neutral",
  outfile: out,
  logLevel: "warning",
});
const { ConnectorError, fromHttpError, isRetryable, paging, exports } = await import(pathToFileURL(out).href);

function described(error) {
  const { tag, val } = error.payload;
  if (tag === "provider" || tag === "permanent") return { kind: tag, status: val.status ?? null };
  if (tag === "rate-limited") return { kind: tag, retry_after: val ?? null };
  return { kind: tag };
}

test("the shared status cases", () => {
  const cases = JSON.parse(readFileSync(join(sdk, "status-cases.json"), "utf8"));
  const check = (error, expect, what) => {
    const got = described(error);
    for (const [key, value] of Object.entries(expect)) assert.deepEqual(got[key] ?? null, value, `${what}: ${JSON.stringify(got)}`);
    assert.equal(isRetryable(error), cases.retryable.includes(got.kind), `${what}: retryable`);
  };
  for (const c of cases.statuses) {
    check(ConnectorError.fromStatus(c.status, "message", c.retry_after ?? undefined), c.expect, `status ${c.status}`);
  }
  for (const c of cases.http_errors) {
    const val = c.error === "too-large" ? BigInt(c.value) : (c.value ?? undefined);
    check(fromHttpError({ tag: c.error, val }), c.expect, JSON.stringify(c));
  }
});

/** Numbers compare by value (5 and 5.0 are one rate). */
function same(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

test("the shared manifest cases", () => {
  const dir = join(sdk, "manifest-cases");
  const files = readdirSync(dir).filter((f) => f.endsWith(".toml")).sort();
  assert.ok(files.length >= 10);
  for (const file of files) {
    const text = readFileSync(join(dir, file), "utf8");
    if (file.startsWith("ok-")) {
      const expected = JSON.parse(readFileSync(join(dir, file.replace(/\.toml$/, ".json")), "utf8"));
      const got = parse(text, toml);
      assert.ok(same(got, expected), `${file}: got ${JSON.stringify(got, null, 1)}`);
    } else {
      const key = text.split("\n")[0].replace(/^# key: /, "");
      assert.throws(() => parse(text, toml), (error) => {
        assert.ok(error instanceof Mistake, `${file}: ${error}`);
        assert.equal(error.key, key, `${file}: ${error.problem}`);
        return true;
      });
    }
  }
});

test("a missing operation is unsupported by name; a thrown exception is permanent", () => {
  assert.throws(() => exports.operation("shop.get-orders", "result", undefined)(), (error) => {
    assert.equal(error.payload.tag, "unsupported");
    assert.match(error.payload.val, /shop\.get-orders/);
    return true;
  });
  assert.deepEqual(exports.operation("actions.list-actions", "list", undefined)(), []);
  const bug = exports.operation("shop.get-order", "result", () => {
    throw new TypeError("x is undefined");
  });
  assert.throws(bug, (error) => {
    assert.equal(error.payload.tag, "permanent");
    assert.match(error.payload.val.message, /shop\.get-order: TypeError: x is undefined/);
    return true;
  });
  const limited = exports.operation("shop.get-orders", "result", () => {
    throw ConnectorError.rateLimited(3);
  });
  assert.throws(limited, (error) => error.payload.tag === "rate-limited" && error.payload.val === 3);
  assert.equal(exports.operation("shop.get-order", "result", (id) => `order ${id}`)("7"), "order 7");
});

test("the manifest becomes the contract's record", () => {
  const data = JSON.parse(readFileSync(join(sdk, "manifest-cases", "ok-full.json"), "utf8"));
  const m = exports.manifest({ ...data, "contract-version": "0.1.1" });
  assert.equal(m.displayName, "Acme Cloud");
  assert.equal(m.auth.oauth2.clientAuth, "body");
  assert.equal(m.credentials[0].default, undefined);
  assert.equal(m.settings[1].default, "test");
  assert.deepEqual([...m.retry.retryableStatuses], [429, 503]);
  assert.equal(m.rateLimit.requestsPerSecond, 2.5);
});

test("paging helpers return the port's page", () => {
  const page = new paging.PageNumber("2", 500, 100);
  assert.deepEqual([page.number, page.size], [2, 100]);
  const orders = page.page([], 250, 3);
  assert.deepEqual([orders.nextCursor, orders.hasMore, orders.total], ["3", true, 250n]);
  assert.equal(new paging.PageNumber("3", undefined, 100).page([], undefined, 3).nextCursor, undefined);
  assert.throws(() => new paging.PageNumber("zero", undefined, 10));
  assert.equal(new paging.Offset("50", 25, 100).page([], 100).nextCursor, "75");
  const link = '<https://s.example/orders.json?limit=50&page_info=abc>; rel="next", <https://s.example/x>; rel="previous"';
  assert.equal(paging.linkPage([], link, "page_info").nextCursor, "abc");
  assert.equal(paging.linkPage([], undefined, "page_info").hasMore, false);
});
