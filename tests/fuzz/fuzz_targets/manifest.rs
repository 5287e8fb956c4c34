//! The manifest checks a plugin passes at load time, on manifests that are
//! mostly well-formed and often not: never a panic, and a manifest that
//! passes holds what the host relies on afterwards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_outbound::{HostPattern, allowlist};
use patchbay_secrets::template;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok((manifest, exported, version)) = patchbay_fuzz::manifest(&mut u) else {
        return;
    };
    let Ok(settings) = patchbay_fuzz::settings(&mut u) else {
        return;
    };
    if patchbay::fuzzing::validate_manifest(&manifest, &exported, &version).is_err() {
        return;
    }
    assert!(exported.contains(&patchbay::Interface::port_of(manifest.family)));
    assert_eq!(manifest.contract_version, version);
    for pattern in &manifest.allowed_hosts {
        match template::whole(pattern.trim(), "setting") {
            Some(setting) => {
                assert!(manifest.settings.iter().any(|s| s.name == setting), "{pattern:?}");
                // Whatever a connection's settings hold, resolving either
                // grants a host pattern that parses, nothing, or an error.
                if let Ok(Some(resolved)) = allowlist::resolve_pattern(pattern, &settings) {
                    let parsed = HostPattern::parse(&resolved).expect("a resolved pattern parses");
                    assert!(!parsed.to_string().contains('*'), "{resolved}");
                }
            }
            None => {
                HostPattern::parse(pattern.trim()).expect("a validated pattern parses");
            }
        }
    }
    if let Some(rate) = &manifest.rate_limit {
        assert!(rate.requests_per_second.is_finite() && rate.requests_per_second > 0.0);
    }
});
