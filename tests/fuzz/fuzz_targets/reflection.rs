//! Reflection scrubbing: for arbitrary secrets, bodies and chunkings, the
//! body scrubbed as it streams equals the body scrubbed whole, and no
//! secret of scrubbable length survives in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_outbound::reflection::{MIN_SCRUBBED_LEN, Reflections};

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let (Ok(secrets), Ok(body), Ok(sizes)) = (
        u.arbitrary::<Vec<String>>(),
        u.arbitrary::<Vec<u8>>(),
        u.arbitrary::<Vec<u8>>(),
    ) else {
        return;
    };
    let secrets: Vec<&str> = secrets.iter().take(4).map(String::as_str).collect();
    let reflections = Reflections::new(secrets.iter().copied());
    let scrub = |sizes: &[u8]| {
        let mut scrubber = reflections.scrubber();
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() {
            let n = sizes
                .next()
                .map_or(rest.len(), |s| usize::from(*s).max(1))
                .min(rest.len());
            scrubber.push(&rest[..n], &mut out);
            rest = &rest[n..];
        }
        scrubber.finish(&mut out);
        out
    };
    let whole = scrub(&[]);
    assert_eq!(scrub(&sizes), whole, "streaming changes nothing");
    for secret in secrets {
        // Only the marker itself can form a secret anew, and only one with
        // a bracket or inside `redacted`.
        if secret.len() >= MIN_SCRUBBED_LEN && !"[redacted]".contains(secret) && !secret.contains(['[', ']']) {
            let found = whole.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret:?} survived in {:?}", String::from_utf8_lossy(&whole));
        }
    }
});
