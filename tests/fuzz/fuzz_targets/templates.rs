//! `{{secret.NAME}}` / `{{setting.NAME}}` templates: never a panic on any
//! text; a value is put in verbatim, never read as a template itself (one
//! pass); a URL's placeholders never change its origin; a body gets only
//! the fields its request names, and a JSON string stays JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_secrets::{Credentials, template};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let (Ok(text), Ok(value), Ok(prefix), Ok(suffix)) = (
        u.arbitrary::<String>(),
        u.arbitrary::<String>(),
        u.arbitrary::<String>(),
        u.arbitrary::<String>(),
    ) else {
        return;
    };
    let credentials = Credentials::from([("token", value.as_str()), ("key", "k3y")]);
    // Any text: an answer, never a panic; what fills names known fields.
    if template::fill_secrets(&text, &credentials).is_ok() {
        let names = template::names(&text, "secret").expect("what fills, parses");
        assert!(names.iter().all(|n| *n == "token" || *n == "key"), "{names:?}");
    }
    let _ = template::whole(&text, "setting");
    // One pass: the value goes in as it is, placeholders in it included.
    if !value.is_empty() && !prefix.contains('{') && !suffix.contains('{') {
        let filled = template::fill_secrets(&format!("{prefix}{{{{secret.token}}}}{suffix}"), &credentials)
            .expect("a declared field fills");
        assert_eq!(filled, format!("{prefix}{value}{suffix}"));
    }
    // Bodies: only named fields are filled; what is filled into a JSON
    // string keeps the body JSON and the value intact.
    let json = template::BodyEncoding::Json;
    if let Ok(Some((body, filled))) = template::fill_body_secrets(text.as_bytes(), &["key"], json, &credentials) {
        assert!(filled.iter().all(|v| v == "k3y"), "only the named field: {filled:?}");
        let names = template::names(&text, "secret").expect("what fills, parses");
        if !names.contains(&"key") {
            assert_eq!(body, text.as_bytes(), "nothing named, nothing changed");
        }
    }
    if !value.is_empty() && !prefix.contains("{{") {
        let body = format!(
            "{{\"password\":\"{{{{secret.token}}}}\",\"note\":{}}}",
            serde_json::json!(prefix)
        );
        let (filled, _) = template::fill_body_secrets(body.as_bytes(), &["token"], json, &credentials)
            .expect("a declared field fills")
            .expect("text");
        let parsed: serde_json::Value = serde_json::from_slice(&filled).expect("still JSON");
        assert_eq!(parsed["password"], serde_json::json!(value));
        assert_eq!(parsed["note"], serde_json::json!(prefix), "other text untouched");
    }
    if let Ok(url) = url::Url::parse(&text)
        && let Ok(filled) = template::fill_url_secrets(&url, &credentials)
    {
        // Compared part by part: an opaque origin (`h://…`) equals no other.
        let origin = |u: &url::Url| {
            (
                u.scheme().to_string(),
                u.host_str().map(str::to_string),
                u.port_or_known_default(),
            )
        };
        assert_eq!(origin(&filled), origin(&url), "{text}");
    }
});
