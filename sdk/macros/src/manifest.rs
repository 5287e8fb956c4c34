//! `patchbay.toml`: the plugin's manifest as a file, read and checked.
//!
//! The schema is the contract's `plugin-manifest` record with its field
//! names (kebab-case), credentials and settings as tables keyed by name, and
//! defaults for everything a plugin rarely changes. The same rules are
//! implemented by the TypeScript and Python build tools, and all three are
//! run against the cases in `sdk/manifest-cases/`.

use std::collections::BTreeSet;

use toml::{Table, Value};

pub const FAMILIES: [&str; 8] = [
    "shop",
    "courier",
    "payment",
    "messaging",
    "storage",
    "llm",
    "feed",
    "other",
];
pub const SETTING_TYPES: [&str; 5] = ["text", "number", "boolean", "url", "choice"];
pub const STRATEGIES: [&str; 8] = [
    "none",
    "basic",
    "bearer",
    "api-key",
    "oauth2",
    "token-exchange",
    "signature",
    "custom",
];
pub const CLIENT_AUTH: [&str; 2] = ["basic", "body"];
pub const FLOWS: [&str; 2] = ["authorization-code", "client-credentials"];
/// What the host retries unless a plugin says otherwise.
pub const RETRYABLE_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
pub const MAX_RETRIES: u32 = 3;
/// Rates a manifest may ask for, as the host accepts them.
const RATE_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e6;

pub struct Manifest {
    pub name: String,
    pub family: String,
    pub display_name: String,
    pub description: String,
    /// `None`: the package's version.
    pub version: Option<String>,
    pub credentials: Vec<Credential>,
    pub settings: Vec<Setting>,
    pub strategy: String,
    pub oauth2: Option<OAuth2>,
    pub allowed_hosts: Vec<String>,
    pub rate_limit: Option<(f64, u32)>,
    pub retry: (u32, Vec<u16>),
    pub webhooks: Option<Webhooks>,
}

pub struct Credential {
    pub name: String,
    pub label: String,
    pub secret: bool,
    pub required: bool,
    pub default: Option<String>,
    pub choices: Vec<String>,
    pub help: String,
}

pub struct Setting {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub default: Option<String>,
    pub choices: Vec<String>,
    pub help: String,
}

pub struct OAuth2 {
    pub authorize_url: Option<String>,
    pub token_url: String,
    pub scopes: Vec<String>,
    pub pkce: bool,
    pub client_auth: String,
    pub flows: Vec<String>,
    pub client_id_field: String,
    pub client_secret_field: String,
}

pub struct Webhooks {
    pub signature_scheme: String,
    pub signature_header: String,
    pub events: Vec<String>,
}

/// A mistake in the file: the key (`settings.domain.type`) and what is wrong.
#[derive(Debug)]
pub struct Mistake {
    pub key: String,
    pub problem: String,
}

type Checked<T> = Result<T, Mistake>;

fn mistake(key: &str, problem: impl Into<String>) -> Mistake {
    Mistake {
        key: key.to_string(),
        problem: problem.into(),
    }
}

/// A table being read: every key must be read, or it is an unknown key.
struct Reader<'a> {
    table: &'a Table,
    path: String,
    read: BTreeSet<&'static str>,
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

impl<'a> Reader<'a> {
    fn new(table: &'a Table, path: &str) -> Self {
        Self {
            table,
            path: path.to_string(),
            read: BTreeSet::new(),
        }
    }

    fn key(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.insert(key);
        self.table.get(key)
    }

    fn string(&mut self, key: &'static str) -> Checked<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(mistake(
                &self.key(key),
                format!("must be a string, not {}", kind_of(other)),
            )),
        }
    }

    fn required_string(&mut self, key: &'static str) -> Checked<String> {
        match self.string(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(mistake(&self.key(key), "must not be empty")),
            None => Err(mistake(&self.key(key), "is missing")),
        }
    }

    fn boolean(&mut self, key: &'static str, default: bool) -> Checked<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(mistake(
                &self.key(key),
                format!("must be true or false, not {}", kind_of(other)),
            )),
        }
    }

    fn strings(&mut self, key: &'static str) -> Checked<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(mistake(
                        &format!("{}[{i}]", self.key(key)),
                        format!("must be a string, not {}", kind_of(other)),
                    )),
                })
                .collect(),
            Some(other) => Err(mistake(
                &self.key(key),
                format!("must be an array of strings, not {}", kind_of(other)),
            )),
        }
    }

    fn one_of(&mut self, key: &'static str, choices: &[&str], default: Option<&str>) -> Checked<String> {
        let value = match (self.string(key)?, default) {
            (Some(value), _) => value,
            (None, Some(default)) => return Ok(default.to_string()),
            (None, None) => return Err(mistake(&self.key(key), "is missing")),
        };
        if choices.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(mistake(
                &self.key(key),
                format!("{value:?} is not one of: {}", choices.join(", ")),
            ))
        }
    }

    fn integer(&mut self, key: &'static str, range: std::ops::RangeInclusive<i64>) -> Checked<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(n)) if range.contains(n) => Ok(Some(*n)),
            Some(Value::Integer(n)) => Err(mistake(
                &self.key(key),
                format!("{n} is outside {} to {}", range.start(), range.end()),
            )),
            Some(other) => Err(mistake(
                &self.key(key),
                format!("must be an integer, not {}", kind_of(other)),
            )),
        }
    }

    fn table(&mut self, key: &'static str) -> Checked<Option<&'a Table>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(other) => Err(mistake(
                &self.key(key),
                format!("must be a table, not {}", kind_of(other)),
            )),
        }
    }

    /// Refuses keys nobody read: a typo must not pass silently.
    fn finish(self) -> Checked<()> {
        match self.table.keys().find(|k| !self.read.contains(k.as_str())) {
            Some(unknown) => {
                let known: Vec<&str> = self.read.iter().copied().collect();
                Err(mistake(
                    &self.key(unknown),
                    format!("is not a known key (known here: {})", known.join(", ")),
                ))
            }
            None => Ok(()),
        }
    }
}

/// Field and plugin names, as the host accepts them.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `{{setting.NAME}}` as the whole of a host pattern.
fn setting_reference(pattern: &str) -> Option<&str> {
    pattern
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("setting.")
}

fn fields<'a>(root: &mut Reader<'a>, key: &'static str) -> Checked<Vec<(String, Reader<'a>)>> {
    let Some(table) = root.table(key)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, value) in table {
        let path = format!("{key}.{name}");
        let Value::Table(field) = value else {
            return Err(mistake(&path, format!("must be a table, not {}", kind_of(value))));
        };
        if !valid_name(name) {
            return Err(mistake(
                &path,
                "a field name must be 1-64 characters of a-z, 0-9, '-' or '_'",
            ));
        }
        out.push((name.to_string(), Reader::new(field, &path)));
    }
    Ok(out)
}

fn credential(name: String, mut r: Reader<'_>) -> Checked<Credential> {
    let label = r.required_string("label")?;
    let secret = r.boolean("secret", true)?;
    let default = r.string("default")?;
    if secret && default.is_some() {
        return Err(mistake(&r.key("default"), "a secret credential cannot have a default"));
    }
    let required = r.boolean("required", default.is_none())?;
    let choices = r.strings("choices")?;
    let help = r.string("help")?.unwrap_or_default();
    r.finish()?;
    Ok(Credential {
        name,
        label,
        secret,
        required,
        default,
        choices,
        help,
    })
}

fn setting(name: String, mut r: Reader<'_>) -> Checked<Setting> {
    let label = r.required_string("label")?;
    let kind = r.one_of("type", &SETTING_TYPES, Some("text"))?;
    let default = r.string("default")?;
    let required = r.boolean("required", default.is_none())?;
    let choices = r.strings("choices")?;
    if kind == "choice" && choices.is_empty() {
        return Err(mistake(
            &r.key("choices"),
            "a setting of type \"choice\" needs its choices",
        ));
    }
    if let Some(default) = &default
        && !choices.is_empty()
        && !choices.contains(default)
    {
        return Err(mistake(
            &r.key("default"),
            format!("{default:?} is not one of the choices"),
        ));
    }
    let help = r.string("help")?.unwrap_or_default();
    r.finish()?;
    Ok(Setting {
        name,
        label,
        kind,
        required,
        default,
        choices,
        help,
    })
}

fn oauth2(table: &Table) -> Checked<OAuth2> {
    let mut r = Reader::new(table, "auth.oauth2");
    let authorize_url = r.string("authorize-url")?;
    let token_url = r.required_string("token-url")?;
    let scopes = r.strings("scopes")?;
    let pkce = r.boolean("pkce", false)?;
    let client_auth = r.one_of("client-auth", &CLIENT_AUTH, Some("basic"))?;
    let flows = match r.strings("flows")? {
        flows if flows.is_empty() => vec!["authorization-code".to_string()],
        flows => flows,
    };
    if let Some(bad) = flows.iter().find(|f| !FLOWS.contains(&f.as_str())) {
        return Err(mistake(
            &r.key("flows"),
            format!("{bad:?} is not one of: {}", FLOWS.join(", ")),
        ));
    }
    if flows.iter().any(|f| f == "authorization-code") && authorize_url.is_none() {
        return Err(mistake(
            &r.key("authorize-url"),
            "is missing (the authorization-code flow needs it)",
        ));
    }
    let client_id_field = r.string("client-id-field")?.unwrap_or_else(|| "client_id".into());
    let client_secret_field = r
        .string("client-secret-field")?
        .unwrap_or_else(|| "client_secret".into());
    r.finish()?;
    Ok(OAuth2 {
        authorize_url,
        token_url,
        scopes,
        pkce,
        client_auth,
        flows,
        client_id_field,
        client_secret_field,
    })
}

/// Reads and checks a manifest file's text.
pub fn parse(text: &str) -> Checked<Manifest> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let message = e.message().to_string();
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                format!("line {line}")
            })
            .unwrap_or_else(|| "the file".into());
        mistake(&at, format!("is not valid TOML: {message}"))
    })?;
    let mut r = Reader::new(&table, "");
    let name = r.required_string("name")?;
    if !valid_name(&name) {
        return Err(mistake(
            "name",
            format!("{name:?} must be 1-64 characters of a-z, 0-9, '-' or '_'"),
        ));
    }
    let family = r.one_of("family", &FAMILIES, None)?;
    let display_name = r.required_string("display-name")?;
    let description = r.required_string("description")?;
    let version = r.string("version")?;
    if let Some(version) = &version
        && !semver(version)
    {
        return Err(mistake(
            "version",
            format!("{version:?} is not a semantic version like 1.2.0"),
        ));
    }
    let credentials = fields(&mut r, "credentials")?
        .into_iter()
        .map(|(name, field)| credential(name, field))
        .collect::<Checked<Vec<_>>>()?;
    let settings = fields(&mut r, "settings")?
        .into_iter()
        .map(|(name, field)| setting(name, field))
        .collect::<Checked<Vec<_>>>()?;
    if let Some(twice) = settings.iter().find(|s| credentials.iter().any(|c| c.name == s.name)) {
        return Err(mistake(
            &format!("settings.{}", twice.name),
            "is also a credential; a field is declared once",
        ));
    }

    let (strategy, oauth2) = match r.table("auth")? {
        None => ("none".to_string(), None),
        Some(auth) => {
            let mut a = Reader::new(auth, "auth");
            let strategy = a.one_of("strategy", &STRATEGIES, Some("none"))?;
            let oauth2 = a.table("oauth2")?.map(oauth2).transpose()?;
            a.finish()?;
            (strategy, oauth2)
        }
    };
    match (&oauth2, strategy.as_str()) {
        (None, "oauth2") => return Err(mistake("auth.oauth2", "is missing (strategy \"oauth2\" needs it)")),
        (Some(o), _) => {
            for (key, field) in [
                ("client-id-field", &o.client_id_field),
                ("client-secret-field", &o.client_secret_field),
            ] {
                if !credentials.iter().any(|c| &c.name == field) {
                    return Err(mistake(
                        &format!("auth.oauth2.{key}"),
                        format!("names {field:?}, which is not a declared credential"),
                    ));
                }
            }
        }
        (None, _) => {}
    }

    let allowed_hosts = r.strings("allowed-hosts")?;
    for (i, host) in allowed_hosts.iter().enumerate() {
        if let Some(setting) = setting_reference(host)
            && !settings.iter().any(|s| s.name == setting.trim())
        {
            return Err(mistake(
                &format!("allowed-hosts[{i}]"),
                format!("{host:?} names a setting that is not declared"),
            ));
        }
    }

    let rate_limit = match r.table("rate-limit")? {
        None => None,
        Some(table) => {
            let mut l = Reader::new(table, "rate-limit");
            let per_second = match l.get("requests-per-second") {
                Some(Value::Integer(n)) => *n as f64,
                Some(Value::Float(f)) => *f,
                Some(other) => {
                    return Err(mistake(
                        "rate-limit.requests-per-second",
                        format!("must be a number, not {}", kind_of(other)),
                    ));
                }
                None => return Err(mistake("rate-limit.requests-per-second", "is missing")),
            };
            if !(per_second.is_finite() && RATE_RANGE.contains(&per_second)) {
                return Err(mistake(
                    "rate-limit.requests-per-second",
                    format!("{per_second} is outside {} to {}", RATE_RANGE.start(), RATE_RANGE.end()),
                ));
            }
            let burst = l.integer("burst", 1..=100_000)?.unwrap_or(1) as u32;
            l.finish()?;
            Some((per_second, burst))
        }
    };

    let retry = match r.table("retry")? {
        None => (MAX_RETRIES, RETRYABLE_STATUSES.to_vec()),
        Some(table) => {
            let mut t = Reader::new(table, "retry");
            let max = t.integer("max-retries", 0..=10)?.map_or(MAX_RETRIES, |n| n as u32);
            let statuses = match t.get("retryable-statuses") {
                None => RETRYABLE_STATUSES.to_vec(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::Integer(n) if (100..=599).contains(n) => Ok(*n as u16),
                        Value::Integer(n) => Err(mistake(
                            &format!("retry.retryable-statuses[{i}]"),
                            format!("{n} is not an HTTP status (100-599)"),
                        )),
                        other => Err(mistake(
                            &format!("retry.retryable-statuses[{i}]"),
                            format!("must be an HTTP status, not {}", kind_of(other)),
                        )),
                    })
                    .collect::<Checked<Vec<_>>>()?,
                Some(other) => {
                    return Err(mistake(
                        "retry.retryable-statuses",
                        format!("must be an array of HTTP statuses, not {}", kind_of(other)),
                    ));
                }
            };
            t.finish()?;
            (max, statuses)
        }
    };

    let webhooks = match r.table("webhooks")? {
        None => None,
        Some(table) => {
            let mut w = Reader::new(table, "webhooks");
            let signature_scheme = w.required_string("signature-scheme")?;
            let signature_header = w.required_string("signature-header")?;
            let events = w.strings("events")?;
            w.finish()?;
            Some(Webhooks {
                signature_scheme,
                signature_header,
                events,
            })
        }
    };
    r.finish()?;
    Ok(Manifest {
        name,
        family,
        display_name,
        description,
        version,
        credentials,
        settings,
        strategy,
        oauth2,
        allowed_hosts,
        rate_limit,
        retry,
        webhooks,
    })
}
