//! What file servers and operators hand the file-transfer door: FTP
//! listing lines (`MLSD` facts, Unix `ls -l`, DOS) from a server that may
//! be hostile, and host key settings (`ssh-keyscan` lines, `SHA256:`
//! fingerprints). Never a panic; an entry's name is one path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_outbound::transfer_fuzzing::{host_key_pins, listing_line};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        for machine in [true, false] {
            if let Ok(Some(entry)) = listing_line(line, machine) {
                assert!(
                    !entry.name.is_empty() && !entry.name.contains('/') && !matches!(entry.name.as_str(), "." | ".."),
                    "{line:?} gave the name {:?}",
                    entry.name
                );
                assert!(!entry.is_dir || entry.size.is_none(), "{entry:?}");
            }
        }
    }
    let _ = host_key_pins(text);
});
