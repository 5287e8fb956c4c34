//! Allowed-host patterns and their `{{setting.NAME}}` resolution: never a
//! panic; a parsed pattern prints as a pattern that parses to itself, and
//! matches only URLs of its own scheme; a template resolves to one origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_outbound::{HostPattern, allowlist};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let (Ok(pattern), Ok(url), Ok(settings)) = (
        u.arbitrary::<String>(),
        u.arbitrary::<String>(),
        patchbay_fuzz::settings(&mut u),
    ) else {
        return;
    };
    if let Ok(parsed) = HostPattern::parse(&pattern) {
        let printed = parsed.to_string();
        let again = HostPattern::parse(&printed).expect("a printed pattern parses");
        assert_eq!(again.to_string(), printed);
        for candidate in [url.clone(), format!("https://{url}"), format!("{printed}/{url}")] {
            if let Ok(url) = url::Url::parse(&candidate)
                && parsed.matches(&url)
            {
                assert!(
                    printed.starts_with(&format!("{}://", url.scheme())),
                    "{printed} matched {url}"
                );
            }
        }
    }
    // A setting fills a template with one origin: never a wildcard, never
    // something that does not parse. (Other patterns pass through as they
    // are, for `HostPattern::parse` to judge.)
    if patchbay_secrets::template::whole(pattern.trim(), "setting").is_some()
        && let Ok(Some(resolved)) = allowlist::resolve_pattern(&pattern, &settings)
    {
        let parsed = HostPattern::parse(&resolved).expect("a resolved template parses");
        assert!(
            !parsed.to_string().contains('*'),
            "{pattern:?} resolved to a wildcard: {parsed}"
        );
    }
});
