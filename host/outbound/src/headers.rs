//! Headers a plugin may not set. The host derives `Host` from the URL and
//! `Content-Length` (and the transfer coding) from the body; hop-by-hop
//! headers belong to the connection the host makes; `Proxy-*` and the
//! forwarding headers steer proxies and front ends. A plugin that could set
//! them could address a virtual host of a shared front end that its grant
//! does not name, or pose as another client. One list for both doors
//! (`http.send` and `wasi:http`, which both come through the pipeline).

use crate::OutboundError;

/// Header names (lowercase) the host always derives or owns: refused from
/// every plugin; any `proxy-*` name is refused too.
pub const DERIVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// Forwarding headers (lowercase): refused unless the plugin declares them
/// (`manifest-extension.forwarding-headers`), because its provider reads them.
pub const FORWARDING_HEADERS: &[&str] = &[
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// Whether a plugin that declared the forwarding headers `declared`
/// (lowercase) may not set `name`.
pub fn is_forbidden(name: &str, declared: &[String]) -> bool {
    let name = name.trim().to_ascii_lowercase();
    DERIVED_HEADERS.contains(&name.as_str())
        || name.starts_with("proxy-")
        || (FORWARDING_HEADERS.contains(&name.as_str()) && !declared.contains(&name))
}

/// The first header a plugin may not set, as the error to answer.
pub fn check(headers: &[(String, String)], declared: &[String]) -> Result<(), OutboundError> {
    match headers.iter().find(|(name, _)| is_forbidden(name, declared)) {
        Some((name, _)) if FORWARDING_HEADERS.contains(&name.trim().to_ascii_lowercase().as_str()) => {
            Err(OutboundError::InvalidRequest(format!(
                "the header {name:?} steers proxies and front ends; a plugin sets it only when it declares it \
                 (manifest-extension.forwarding-headers)"
            )))
        }
        Some((name, _)) => Err(OutboundError::InvalidRequest(format!(
            "the header {name:?} is set by the host, not the plugin (the host derives it from the URL and \
             the body, or it steers proxies)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_case_blind_and_covers_proxy_headers() {
        for name in [
            "Host",
            "HOST",
            "content-length",
            "Transfer-Encoding",
            "Proxy-Authorization",
            "X-Forwarded-Host",
        ] {
            assert!(is_forbidden(name, &[]), "{name}");
        }
        for name in ["accept", "authorization", "x-request-id", "content-type", "hostname"] {
            assert!(!is_forbidden(name, &[]), "{name}");
        }
        let error = check(
            &[("accept".into(), "*/*".into()), ("Host".into(), "internal".into())],
            &[],
        )
        .unwrap_err();
        assert!(error.to_string().contains("\"Host\""), "{error}");
    }

    #[test]
    fn a_declared_forwarding_header_passes_and_nothing_else_does() {
        let declared = vec!["x-forwarded-for".to_string()];
        assert!(!is_forbidden("X-Forwarded-For", &declared));
        assert!(is_forbidden("X-Forwarded-Host", &declared), "only what was declared");
        // Declaring a derived header changes nothing.
        let declared = vec!["host".to_string(), "proxy-authorization".to_string()];
        assert!(is_forbidden("Host", &declared));
        assert!(is_forbidden("Proxy-Authorization", &declared));
        let error = check(&[("X-Real-IP".into(), "203.0.113.9".into())], &[]).unwrap_err();
        assert!(
            error.to_string().contains("manifest-extension.forwarding-headers"),
            "{error}"
        );
    }
}
