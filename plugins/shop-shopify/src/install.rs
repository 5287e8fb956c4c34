//! Installing the app on a store through OAuth: the host runs the
//! authorization code flow on `{store}/admin/oauth/authorize` and
//! `/admin/oauth/access_token` (the manifest's `auth.oauth2`); Shopify signs
//! the callback's parameters, and this checks them before the host exchanges
//! the code (`oauth-callback`):
//! <https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>
//!
//! - `hmac`: hex HMAC-SHA256, keyed by the app's client secret, of the other
//!   parameters (without `hmac` and `signature`) sorted by name and joined as
//!   `name=value&…`, with `%`, `&` (and `=` in names) escaped;
//! - `shop`: the store the app was installed on — this connection's;
//! - `timestamp`: when Shopify sent the user back, not long ago.

use patchbay_sdk::crypto::{self, HashAlgorithm};
use patchbay_sdk::prelude::*;
use patchbay_sdk::{config, time};

/// How old a callback may be.
const MAX_AGE: i64 = 3600;

fn escape(text: &str, name: bool) -> String {
    let text = text.replace('%', "%25").replace('&', "%26");
    if name { text.replace('=', "%3D") } else { text }
}

/// The message Shopify signs: every parameter but `hmac` and `signature`,
/// sorted by name.
pub fn signed_message(params: &[Header]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|p| p.name != "hmac" && p.name != "signature")
        .map(|p| (escape(&p.name, true), escape(&p.value, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The host (and port) of a URL.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default()
}

/// Checks a callback: its signature, its store, its age.
pub fn check_callback(params: &[Header]) -> Result<()> {
    let get = |name: &str| params.iter().find(|p| p.name == name).map(|p| p.value.as_str());
    let signature = get("hmac")
        .ok_or_else(|| Error::Validation("the callback carries no hmac: it does not come from Shopify".into()))?;
    let signature = crypto::from_hex(signature.trim())
        .ok_or_else(|| Error::Validation("the callback's hmac is not hexadecimal".into()))?;
    let message = signed_message(params);
    if !crypto::verify_hmac(HashAlgorithm::Sha256, "client_secret", message.as_bytes(), &signature)? {
        return Err(Error::Validation(
            "the callback's hmac does not match its parameters (forged or altered)".into(),
        ));
    }
    let store = config::require("store_url")?;
    let shop = get("shop").ok_or_else(|| Error::Validation("the callback names no shop".into()))?;
    if !shop.eq_ignore_ascii_case(host_of(&store)) {
        return Err(Error::Validation(format!(
            "the callback is for the store {shop:?}, not this connection's {:?}",
            host_of(&store)
        )));
    }
    if let Some(at) = get("timestamp") {
        let at: i64 = at
            .parse()
            .map_err(|_| Error::Validation(format!("the callback's timestamp {at:?} is not a number")))?;
        if (time::now() - at).abs() > MAX_AGE {
            return Err(Error::Validation("the callback is more than an hour old".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_signed_message_is_sorted_and_escaped() {
        let params = [
            h("state", "0.6784241404160823"),
            h("hmac", "ignored"),
            h("code", "0907a61c0c8d55e99db179b68161bc00"),
            h("shop", "some-shop.myshopify.com"),
            h("timestamp", "1337178173"),
            h("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w"),
            h("weird=key", "a&b%c"),
        ];
        assert_eq!(
            signed_message(&params),
            "code=0907a61c0c8d55e99db179b68161bc00&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w\
             &shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173&weird%3Dkey=a%26b%25c"
        );
        assert_eq!(host_of("https://acme.myshopify.com/"), "acme.myshopify.com");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
