// Loads the dashboard of a running `patchbay serve` in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core; nothing is
// downloaded) and checks what a person would see: the key form, then the
// providers, the tenant's connection and the call made before.
//
//   SERVE_URL=http://127.0.0.1:8080 ADMIN_KEY=pbk_... TENANT=acme \
//     CONNECTION=c-... SCREENSHOT=out.png node check.mjs

import { chromium } from "playwright-core";

const { SERVE_URL, ADMIN_KEY, TENANT, CONNECTION, SCREENSHOT } = process.env;
for (const [name, value] of Object.entries({ SERVE_URL, ADMIN_KEY, TENANT, CONNECTION })) {
  if (!value) throw new Error(`${name} is not set`);
}

function check(condition, message) {
  if (!condition) {
    console.error(`FAILED: ${message}`);
    process.exitCode = 1;
    throw new Error(message);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(SERVE_URL + "/");
  check(await page.getByRole("heading", { name: "Admin key" }).isVisible(), "the key form shows first");
  check(await page.locator("#overview").isHidden(), "nothing is shown without a key");

  // A wrong key: the problem's detail is shown.
  await page.getByLabel("Admin key").fill("pbk_0000000000000000_wrong");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor({ timeout: 10000 });

  await page.getByLabel("Admin key").fill(ADMIN_KEY);
  await page.getByRole("button", { name: "Show" }).click();
  await page.locator("#overview").waitFor({ state: "visible", timeout: 10000 });
  const providers = await page.locator("#providers").innerText();
  check(providers.includes("shop/woocommerce") && providers.includes("WooCommerce"), `providers: ${providers}`);
  check(providers.includes("other/probe"), `the hot-reloaded plugin is listed: ${providers}`);
  await page.getByRole("heading", { name: `Tenant ${TENANT}` }).waitFor({ timeout: 10000 });
  const tenants = await page.locator("#tenants").innerText();
  check(tenants.includes(CONNECTION) && tenants.includes("enabled") && tenants.includes("closed"), `connections: ${tenants}`);
  const calls = await page.locator("#calls").innerText();
  check(calls.includes("shop.get-orders") && calls.includes(CONNECTION) && /\d+\.\d ms/.test(calls), `calls: ${calls}`);
  check(errors.length === 0, `no script errors: ${errors.join("; ")}`);
  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log("ok: the dashboard shows the providers, the tenant's connection and its calls in headless Chromium");

  // The API docs: the vendored Swagger UI renders the OpenAPI document.
  const docs = await browser.newPage();
  const outside = [];
  docs.on("request", (r) => { if (!r.url().startsWith(SERVE_URL)) outside.push(r.url()); });
  await docs.goto(SERVE_URL + "/docs");
  await docs.getByText("/v1/connections/{id}/call/{function}").first().waitFor({ timeout: 15000 });
  check(await docs.getByRole("button", { name: /Authorize/ }).first().isVisible(), "the API key can be entered");
  check(outside.length === 0, `nothing is fetched from elsewhere: ${outside.join(", ")}`);
  console.log("ok: /docs renders every operation with the vendored Swagger UI, fetching nothing from elsewhere");
} finally {
  await browser.close();
}
