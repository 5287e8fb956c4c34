// patchbay.toml: a plugin's manifest as a file, read and checked.
//
// The same rules as the Rust SDK (sdk/macros) and the Python and C builds
// (sdk/python/patchbay_build/manifest.py); all three run the cases in
// sdk/manifest-cases/. `parse(text, toml)` takes the text and a TOML parser
// (smol-toml's `parse`) and returns the manifest as plain data keyed as the
// contract names the fields, with every default filled in, or throws a
// `Mistake` naming the key.

export const FAMILIES = ["shop", "courier", "payment", "messaging", "storage", "llm", "feed", "other"];
const SETTING_TYPES = ["text", "number", "boolean", "url", "choice"];
const STRATEGIES = ["none", "basic", "bearer", "api-key", "oauth2", "token-exchange", "signature", "custom"];
const CLIENT_AUTH = ["basic", "body"];
const FLOWS = ["authorization-code", "client-credentials"];
const RETRYABLE_STATUSES = [429, 500, 502, 503, 504];
const MAX_RETRIES = 3;
const RATE_MIN = 1e-3;
const RATE_MAX = 1e6;
const NAME = /^[a-z0-9_-]{1,64}$/;
const SEMVER = /^\d+\.\d+\.\d+([-+].*)?$/;

export class Mistake extends Error {
  constructor(key, problem) {
    super(`${key}: ${problem}`);
    this.key = key;
    this.problem = problem;
  }
}

function kind(value) {
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "string") return "a string";
  if (typeof value === "bigint" || Number.isInteger(value)) return "an integer";
  if (typeof value === "number") return "a number";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  return "a table";
}

const isTable = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
const isInteger = (v) => typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));

/** A table being read: every key must be read, or it is an unknown key. */
class Reader {
  constructor(table, path) {
    this.table = table;
    this.path = path;
    this.read = new Set();
  }
  key(key) {
    return this.path ? `${this.path}.${key}` : key;
  }
  get(key) {
    this.read.add(key);
    return Object.hasOwn(this.table, key) ? this.table[key] : undefined;
  }
  string(key) {
    const value = this.get(key);
    if (value === undefined || typeof value === "string") return value;
    throw new Mistake(this.key(key), `must be a string, not ${kind(value)}`);
  }
  requiredString(key) {
    const value = this.string(key);
    if (value === undefined) throw new Mistake(this.key(key), "is missing");
    if (!value.trim()) throw new Mistake(this.key(key), "must not be empty");
    return value;
  }
  boolean(key, fallback) {
    const value = this.get(key);
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    throw new Mistake(this.key(key), `must be true or false, not ${kind(value)}`);
  }
  strings(key) {
    const value = this.get(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Mistake(this.key(key), `must be an array of strings, not ${kind(value)}`);
    value.forEach((item, i) => {
      if (typeof item !== "string") throw new Mistake(`${this.key(key)}[${i}]`, `must be a string, not ${kind(item)}`);
    });
    return [...value];
  }
  oneOf(key, choices, fallback) {
    const value = this.string(key);
    if (value === undefined) {
      if (fallback === undefined) throw new Mistake(this.key(key), "is missing");
      return fallback;
    }
    if (!choices.includes(value)) throw new Mistake(this.key(key), `${JSON.stringify(value)} is not one of: ${choices.join(", ")}`);
    return value;
  }
  integer(key, low, high) {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (!isInteger(value)) throw new Mistake(this.key(key), `must be an integer, not ${kind(value)}`);
    const n = Number(value);
    if (n < low || n > high) throw new Mistake(this.key(key), `${n} is outside ${low} to ${high}`);
    return n;
  }
  subtable(key) {
    const value = this.get(key);
    if (value === undefined || isTable(value)) return value;
    throw new Mistake(this.key(key), `must be a table, not ${kind(value)}`);
  }
  finish() {
    for (const key of Object.keys(this.table)) {
      if (!this.read.has(key)) {
        throw new Mistake(this.key(key), `is not a known key (known here: ${[...this.read].sort().join(", ")})`);
      }
    }
  }
}

function fields(root, key) {
  const table = root.subtable(key) ?? {};
  return Object.entries(table).map(([name, value]) => {
    const path = `${key}.${name}`;
    if (!isTable(value)) throw new Mistake(path, `must be a table, not ${kind(value)}`);
    if (!NAME.test(name)) throw new Mistake(path, "a field name must be 1-64 characters of a-z, 0-9, '-' or '_'");
    return [name, new Reader(value, path)];
  });
}

function credential(name, r) {
  const label = r.requiredString("label");
  const secret = r.boolean("secret", true);
  const fallback = r.string("default");
  if (secret && fallback !== undefined) throw new Mistake(r.key("default"), "a secret credential cannot have a default");
  const required = r.boolean("required", fallback === undefined);
  const choices = r.strings("choices");
  const help = r.string("help") ?? "";
  r.finish();
  return { name, label, secret, required, default: fallback ?? null, choices, help };
}

function setting(name, r) {
  const label = r.requiredString("label");
  const type = r.oneOf("type", SETTING_TYPES, "text");
  const fallback = r.string("default");
  const required = r.boolean("required", fallback === undefined);
  const choices = r.strings("choices");
  if (type === "choice" && choices.length === 0) throw new Mistake(r.key("choices"), 'a setting of type "choice" needs its choices');
  if (fallback !== undefined && choices.length > 0 && !choices.includes(fallback)) {
    throw new Mistake(r.key("default"), `${JSON.stringify(fallback)} is not one of the choices`);
  }
  const help = r.string("help") ?? "";
  r.finish();
  return { name, label, type, required, default: fallback ?? null, choices, help };
}

function oauth2(table) {
  const r = new Reader(table, "auth.oauth2");
  const authorizeUrl = r.string("authorize-url");
  const tokenUrl = r.requiredString("token-url");
  const scopes = r.strings("scopes");
  const pkce = r.boolean("pkce", false);
  const clientAuth = r.oneOf("client-auth", CLIENT_AUTH, "basic");
  let flows = r.strings("flows");
  if (flows.length === 0) flows = ["authorization-code"];
  for (const flow of flows) {
    if (!FLOWS.includes(flow)) throw new Mistake(r.key("flows"), `${JSON.stringify(flow)} is not one of: ${FLOWS.join(", ")}`);
  }
  if (flows.includes("authorization-code") && authorizeUrl === undefined) {
    throw new Mistake(r.key("authorize-url"), "is missing (the authorization-code flow needs it)");
  }
  const clientIdField = r.string("client-id-field") ?? "client_id";
  const clientSecretField = r.string("client-secret-field") ?? "client_secret";
  r.finish();
  return {
    "authorize-url": authorizeUrl ?? null,
    "token-url": tokenUrl,
    scopes,
    pkce,
    "client-auth": clientAuth,
    flows,
    "client-id-field": clientIdField,
    "client-secret-field": clientSecretField,
  };
}

function settingReference(pattern) {
  const text = pattern.trim();
  if (!text.startsWith("{{") || !text.endsWith("}}")) return undefined;
  const inner = text.slice(2, -2).trim();
  return inner.startsWith("setting.") ? inner.slice("setting.".length) : undefined;
}

/** Reads and checks a manifest's text; throws `Mistake`. */
export function parse(text, toml) {
  let table;
  try {
    table = toml(text);
  } catch (error) {
    const line = error?.line ?? /line (\d+)/.exec(String(error?.message))?.[1];
    throw new Mistake(line ? `line ${line}` : "the file", `is not valid TOML: ${String(error?.message ?? error).split("\n")[0]}`);
  }
  const r = new Reader(table, "");
  const name = r.requiredString("name");
  if (!NAME.test(name)) throw new Mistake("name", `${JSON.stringify(name)} must be 1-64 characters of a-z, 0-9, '-' or '_'`);
  const family = r.oneOf("family", FAMILIES, undefined);
  const displayName = r.requiredString("display-name");
  const description = r.requiredString("description");
  const version = r.string("version");
  if (version !== undefined && !SEMVER.test(version)) {
    throw new Mistake("version", `${JSON.stringify(version)} is not a semantic version like 1.2.0`);
  }
  const credentials = fields(r, "credentials").map(([n, f]) => credential(n, f));
  const settings = fields(r, "settings").map(([n, f]) => setting(n, f));
  const credentialNames = new Set(credentials.map((c) => c.name));
  for (const s of settings) {
    if (credentialNames.has(s.name)) throw new Mistake(`settings.${s.name}`, "is also a credential; a field is declared once");
  }

  let strategy = "none";
  let oauth = null;
  const auth = r.subtable("auth");
  if (auth !== undefined) {
    const a = new Reader(auth, "auth");
    strategy = a.oneOf("strategy", STRATEGIES, "none");
    const table = a.subtable("oauth2");
    oauth = table !== undefined ? oauth2(table) : null;
    a.finish();
  }
  if (oauth === null && strategy === "oauth2") throw new Mistake("auth.oauth2", 'is missing (strategy "oauth2" needs it)');
  if (oauth !== null) {
    for (const key of ["client-id-field", "client-secret-field"]) {
      if (!credentialNames.has(oauth[key])) {
        throw new Mistake(`auth.oauth2.${key}`, `names ${JSON.stringify(oauth[key])}, which is not a declared credential`);
      }
    }
  }

  const allowedHosts = r.strings("allowed-hosts");
  const settingNames = new Set(settings.map((s) => s.name));
  allowedHosts.forEach((host, i) => {
    const reference = settingReference(host);
    if (reference !== undefined && !settingNames.has(reference.trim())) {
      throw new Mistake(`allowed-hosts[${i}]`, `${JSON.stringify(host)} names a setting that is not declared`);
    }
  });

  let rateLimit = null;
  const limit = r.subtable("rate-limit");
  if (limit !== undefined) {
    const l = new Reader(limit, "rate-limit");
    const rps = l.get("requests-per-second");
    if (rps === undefined) throw new Mistake("rate-limit.requests-per-second", "is missing");
    if (typeof rps !== "number" && typeof rps !== "bigint") {
      throw new Mistake("rate-limit.requests-per-second", `must be a number, not ${kind(rps)}`);
    }
    const value = Number(rps);
    if (!(Number.isFinite(value) && value >= RATE_MIN && value <= RATE_MAX)) {
      throw new Mistake("rate-limit.requests-per-second", `${value} is outside ${RATE_MIN} to ${RATE_MAX}`);
    }
    const burst = l.integer("burst", 1, 100000) ?? 1;
    l.finish();
    rateLimit = { "requests-per-second": value, burst };
  }

  let retry = { "max-retries": MAX_RETRIES, "retryable-statuses": [...RETRYABLE_STATUSES] };
  const retryTable = r.subtable("retry");
  if (retryTable !== undefined) {
    const t = new Reader(retryTable, "retry");
    const maxRetries = t.integer("max-retries", 0, 10);
    let statuses = t.get("retryable-statuses");
    if (statuses === undefined) {
      statuses = [...RETRYABLE_STATUSES];
    } else if (!Array.isArray(statuses)) {
      throw new Mistake("retry.retryable-statuses", `must be an array of HTTP statuses, not ${kind(statuses)}`);
    } else {
      statuses = statuses.map((status, i) => {
        if (!isInteger(status)) throw new Mistake(`retry.retryable-statuses[${i}]`, `must be an HTTP status, not ${kind(status)}`);
        const n = Number(status);
        if (n < 100 || n > 599) throw new Mistake(`retry.retryable-statuses[${i}]`, `${n} is not an HTTP status (100-599)`);
        return n;
      });
    }
    t.finish();
    retry = { "max-retries": maxRetries ?? MAX_RETRIES, "retryable-statuses": statuses };
  }

  let webhooks = null;
  const hooks = r.subtable("webhooks");
  if (hooks !== undefined) {
    const w = new Reader(hooks, "webhooks");
    webhooks = {
      "signature-scheme": w.requiredString("signature-scheme"),
      "signature-header": w.requiredString("signature-header"),
      events: w.strings("events"),
    };
    w.finish();
  }
  r.finish();
  return {
    name,
    family,
    "display-name": displayName,
    description,
    version: version ?? null,
    credentials,
    settings,
    auth: { strategy, oauth2: oauth },
    "allowed-hosts": allowedHosts,
    "rate-limit": rateLimit,
    retry,
    webhooks,
  };
}
