//! Headers a plugin may not set. The host derives `Host` from the URL and
//! `Content-Length` (and the transfer coding) from the body; hop-by-hop
//! headers belong to the connection the host makes; `Proxy-*` and the
//! forwarding headers steer proxies and front ends. A plugin that could set
//! them could address a virtual host of a shared front end that its grant
//! does not name, or pose as another client. One list for both doors
//! (`http.send` and `wasi:http`, which both come through the pipeline).

use crate::OutboundError;

/// The refused header names (lowercase); any `proxy-*` name is refused too.
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// Whether a plugin may not set `name`.
pub fn is_forbidden(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    FORBIDDEN_HEADERS.contains(&name.as_str()) || name.starts_with("proxy-")
}

/// The first header a plugin may not set, as the error to answer.
pub fn check(headers: &[(String, String)]) -> Result<(), OutboundError> {
    match headers.iter().find(|(name, _)| is_forbidden(name)) {
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
            assert!(is_forbidden(name), "{name}");
        }
        for name in ["accept", "authorization", "x-request-id", "content-type", "hostname"] {
            assert!(!is_forbidden(name), "{name}");
        }
        let error = check(&[("accept".into(), "*/*".into()), ("Host".into(), "internal".into())]).unwrap_err();
        assert!(error.to_string().contains("\"Host\""), "{error}");
    }
}
