//! Which hosts a plugin may reach.
//!
//! Patterns are parsed once into [`HostPattern`]s. Accepted forms:
//!
//! | pattern                          | matches                                         |
//! |----------------------------------|-------------------------------------------------|
//! | `https://api.example.com`        | that host, HTTPS, port 443                      |
//! | `https://api.example.com:8443`   | that host, HTTPS, port 8443                     |
//! | `http://127.0.0.1:8080`          | that address, HTTP, port 8080                   |
//! | `https://*.myshopify.com`        | any subdomain (not the bare domain), HTTPS, 443 |
//! | `smtp://mail.example.com:465`    | that mail server, port 465 (587 when omitted)   |
//! | `sftp://files.example.com`       | that SSH server, port 22                        |
//! | `ftp://ftp.example.com`          | that FTP server, port 21 (`ftps://`: 990)       |
//! | `{{setting.NAME}}`               | the origin held by the connection's setting     |
//!
//! Anything else is rejected: a missing scheme, a path, user info, a
//! wildcard anywhere but the first label, a wildcard over a top-level domain
//! (`*.com`), or a bare `*`. An empty list denies everything.

use std::collections::BTreeMap;
use std::fmt;

use patchbay_secrets::template;
use url::Url;

/// Why a host pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed host {pattern:?}: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

fn invalid(pattern: &str, reason: impl Into<String>) -> PatternError {
    PatternError {
        pattern: pattern.to_string(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Exact(String),
    /// `*.suffix`: strictly below `suffix`.
    Subdomains(String),
}

/// One parsed allowed-host pattern: scheme, host (or subdomain wildcard), port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    scheme: String,
    host: HostMatch,
    port: u16,
}

impl HostPattern {
    /// Parses a pattern of the forms in the module documentation (after
    /// `{{setting.NAME}}` has been resolved).
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let text = pattern.trim();
        if text.is_empty() {
            return Err(invalid(pattern, "empty pattern"));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid(pattern, "needs a scheme, e.g. https://api.example.com"))?;
        let scheme = scheme.to_ascii_lowercase();
        if default_port(&scheme).is_none() {
            return Err(invalid(
                pattern,
                format!("scheme {scheme:?} is not one the host serves ({})", SCHEMES.join(", ")),
            ));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(invalid(
                pattern,
                "a pattern names an origin only, without a path or query",
            ));
        }
        if authority.contains('@') {
            return Err(invalid(pattern, "user information is not allowed"));
        }
        let (host, wildcard) = match authority.strip_prefix("*.") {
            Some(suffix) => (suffix, true),
            None => (authority, false),
        };
        if host.contains('*') {
            return Err(invalid(
                pattern,
                "a wildcard may only be the whole first label, as in https://*.example.com",
            ));
        }
        // Let the URL parser validate and normalize host and port.
        let url = Url::parse(&format!("{scheme}://{host}/"))
            .map_err(|e| invalid(pattern, format!("not a valid origin: {e}")))?;
        let parsed_host = url
            .host_str()
            .ok_or_else(|| invalid(pattern, "no host"))?
            .to_ascii_lowercase();
        let port = port_of(&url).ok_or_else(|| invalid(pattern, "no port"))?;
        // Found by the host_patterns fuzzer: the URL parser decodes `%2A`
        // into a `*` that the check above did not see.
        if parsed_host.contains('*') {
            return Err(invalid(
                pattern,
                format!("the host decodes to {parsed_host:?}; a wildcard may only be the whole first label"),
            ));
        }
        let host = if wildcard {
            if !parsed_host.contains('.') {
                return Err(invalid(
                    pattern,
                    "a wildcard must cover a registrable domain, not a top-level domain",
                ));
            }
            if url.host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) {
                return Err(invalid(pattern, "a wildcard cannot cover an IP address"));
            }
            HostMatch::Subdomains(parsed_host)
        } else {
            HostMatch::Exact(parsed_host)
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether `url` is within this pattern.
    pub fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let host = host.to_ascii_lowercase();
        let host_ok = match &self.host {
            HostMatch::Exact(exact) => host == *exact,
            HostMatch::Subdomains(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix.as_str())
                    && host[..host.len() - suffix.len()].ends_with('.')
            }
        };
        host_ok && url.scheme() == self.scheme && port_of(url) == Some(self.port)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match &self.host {
            HostMatch::Exact(h) => h.clone(),
            HostMatch::Subdomains(s) => format!("*.{s}"),
        };
        write!(f, "{}://{}:{}", self.scheme, host, self.port)
    }
}

/// The schemes a pattern may name: HTTP for the `http` door, `smtp` for the
/// SMTP door, `sftp`, `ftp` and `ftps` for the file-transfer door.
pub const SCHEMES: &[&str] = &["https", "http", "smtp", "sftp", "ftp", "ftps"];

/// The port a scheme means when none is written: 443, 80, and 587 for SMTP
/// submission; `None` for a scheme the host does not serve.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        "smtp" => Some(587),
        "sftp" => Some(22),
        "ftp" => Some(21),
        "ftps" => Some(990),
        _ => None,
    }
}

/// A URL's port, or its scheme's default.
fn port_of(url: &Url) -> Option<u16> {
    url.port().or_else(|| default_port(url.scheme()))
}

/// Resolves `{{setting.NAME}}` patterns against a connection's settings.
///
/// A setting holding a bare host (`shop.example.com`) means HTTPS; a
/// setting holding a URL with a path keeps only its origin. A pattern whose
/// setting is not set grants nothing: `Ok(None)`.
pub fn resolve_pattern(pattern: &str, settings: &BTreeMap<String, String>) -> Result<Option<String>, PatternError> {
    let text = pattern.trim();
    let Some(name) = template::whole(text, "setting") else {
        if text.contains("{{") {
            return Err(invalid(
                pattern,
                "only a whole-pattern {{setting.NAME}} template is supported",
            ));
        }
        return Ok(Some(text.to_string()));
    };
    let Some(value) = settings.get(name.trim()).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        invalid(
            pattern,
            format!("the setting {:?} is not a URL ({value:?}): {e}", name.trim()),
        )
    })?;
    // Found by the manifest fuzzer: `gopher://…` resolved, to fail later as a
    // pattern with no word of the setting that caused it.
    if default_port(url.scheme()).is_none() {
        return Err(invalid(
            pattern,
            format!(
                "the setting {:?} is a {}: URL ({value:?}); it must be one of {}",
                name.trim(),
                url.scheme(),
                SCHEMES.join(", ")
            ),
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| invalid(pattern, format!("the setting {:?} has no host", name.trim())))?;
    // A setting names one host: it cannot widen the grant to a wildcard.
    if host.contains('*') {
        return Err(invalid(
            pattern,
            format!(
                "the setting {:?} holds a wildcard ({value:?}); it must name one host",
                name.trim()
            ),
        ));
    }
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Ok(Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }))
}

/// The hosts one connection may reach: what the plugin declares, narrowed
/// by what the operator allows (grant = declared ∩ allowed).
#[derive(Debug, Clone, Default)]
pub struct HostGrant {
    declared: Vec<HostPattern>,
    /// `None`: the operator did not narrow this provider.
    operator: Option<Vec<HostPattern>>,
}

impl HostGrant {
    /// A grant from declared patterns and an optional operator narrowing.
    pub fn new(declared: Vec<HostPattern>, operator: Option<Vec<HostPattern>>) -> Self {
        Self { declared, operator }
    }

    /// Checks a URL; the error says why it is refused.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        let origin = match (url.host_str(), port_of(url)) {
            (Some(host), Some(port)) if !url.origin().is_tuple() => format!("{}://{host}:{port}", url.scheme()),
            _ => url.origin().ascii_serialization(),
        };
        if !self.declared.iter().any(|p| p.matches(url)) {
            return Err(if self.declared.is_empty() {
                format!("{origin} is not allowed: the plugin declares no allowed hosts")
            } else {
                format!(
                    "{origin} is not among the plugin's allowed hosts ({})",
                    self.declared
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        if let Some(operator) = &self.operator
            && !operator.iter().any(|p| p.matches(url))
        {
            return Err(format!(
                "{origin} is not among the hosts the operator allows for this provider"
            ));
        }
        Ok(())
    }

    /// The declared patterns.
    pub fn declared(&self) -> &[HostPattern] {
        &self.declared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn exact_hosts_match_scheme_host_and_port() {
        let p = HostPattern::parse("https://api.example.com").unwrap();
        assert!(p.matches(&url("https://api.example.com/v1/x?y=1")));
        assert!(p.matches(&url("https://API.example.com:443/")));
        assert!(!p.matches(&url("http://api.example.com/")));
        assert!(!p.matches(&url("https://api.example.com:8443/")));
        assert!(!p.matches(&url("https://api.example.com.evil.net/")));
        assert!(!p.matches(&url("https://evilapi.example.com/")));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let p = HostPattern::parse("https://*.myshopify.com").unwrap();
        assert!(p.matches(&url("https://shop.myshopify.com/admin")));
        assert!(p.matches(&url("https://a.b.myshopify.com/")));
        assert!(!p.matches(&url("https://myshopify.com/")));
        assert!(!p.matches(&url("https://evilmyshopify.com/")));
    }

    #[test]
    fn ambiguous_or_broad_patterns_are_rejected() {
        for bad in [
            "*",
            "https://*",
            "https://*.com",
            "api.example.com",
            "gopher://x.example.com",
            "https://a.*.example.com",
            "https://api.example.com/v1",
            "https://u@api.example.com",
            "https://*.127.0.0.1",
            "https://api*.example.com",
            "",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ports_and_ip_addresses_are_exact() {
        let p = HostPattern::parse("http://127.0.0.1:8080").unwrap();
        assert!(p.matches(&url("http://127.0.0.1:8080/wp-json")));
        assert!(!p.matches(&url("http://127.0.0.1:8081/")));
        assert!(!p.matches(&url("http://localhost:8080/")));
    }

    #[test]
    fn setting_templates_resolve_to_origins() {
        let settings = BTreeMap::from([
            ("domain".to_string(), "http://127.0.0.1:9000/shop/".to_string()),
            ("bare".to_string(), "shop.example.com".to_string()),
        ]);
        assert_eq!(
            resolve_pattern("{{setting.domain}}", &settings).unwrap().as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            resolve_pattern("{{setting.bare}}", &settings).unwrap().as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            resolve_pattern("{{setting.nope}}", &settings).unwrap(),
            None,
            "an unset setting grants nothing"
        );
        assert!(resolve_pattern("https://{{setting.bare}}/x", &settings).is_err());
        // Security review F21: a tenant's setting names one host, not many.
        let wide = BTreeMap::from([("domain".to_string(), "https://*.amazonaws.com".to_string())]);
        let refused = resolve_pattern("{{setting.domain}}", &wide).unwrap_err();
        assert!(refused.to_string().contains("wildcard"), "{refused}");
        // Found by the host_patterns fuzzer: a percent-encoded `*` is no way
        // around the wildcard rule.
        for sneaky in [
            "https://api.%2A",
            "https://%2a.example.com",
            "https://*.%2A.example.com",
        ] {
            let refused = HostPattern::parse(sneaky).unwrap_err();
            assert!(refused.to_string().contains("wildcard"), "{sneaky}: {refused}");
        }
        // Found by the manifest fuzzer: a setting of another scheme is
        // refused naming the setting, not resolved into a broken pattern.
        let ftp = BTreeMap::from([("domain".to_string(), "omain://GHIJKL".to_string())]);
        let refused = resolve_pattern("{{setting.domain}}", &ftp).unwrap_err();
        assert!(
            refused.to_string().contains("the setting \"domain\" is a omain: URL"),
            "{refused}"
        );
    }

    #[test]
    fn grants_are_the_intersection_and_empty_denies_all() {
        let declared = vec![HostPattern::parse("https://*.example.com").unwrap()];
        let narrowed = HostGrant::new(
            declared.clone(),
            Some(vec![HostPattern::parse("https://a.example.com").unwrap()]),
        );
        assert!(narrowed.check(&url("https://a.example.com/")).is_ok());
        let err = narrowed.check(&url("https://b.example.com/")).unwrap_err();
        assert!(err.contains("operator"), "{err}");
        assert!(
            HostGrant::new(declared, None)
                .check(&url("https://b.example.com/"))
                .is_ok()
        );
        let none = HostGrant::default().check(&url("https://a.example.com/")).unwrap_err();
        assert!(none.contains("declares no allowed hosts"), "{none}");
    }
}
