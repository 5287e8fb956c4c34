//! The storage adapters' readers of what a server answers: S3's listings,
//! upload ids and error documents, WebDAV's multistatus. Whatever the bytes,
//! they answer or refuse without panicking; a listing they accept that
//! says it is truncated names where the next page starts; the
//! completion document S3 is sent parses back with the ETags it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(listing) = storage_s3::fuzzing::listing(text) {
        // A truncated listing always names where the next page starts.
        let document = roxmltree::Document::parse(text).expect("an accepted listing is XML");
        let truncated = document
            .root_element()
            .children()
            .any(|n| n.has_tag_name("IsTruncated") && n.text().is_some_and(|t| t.trim() == "true"));
        assert!(!truncated || listing.next.is_some());
    }
    let _ = storage_s3::fuzzing::upload_id(text);
    let _ = storage_s3::fuzzing::error(text);
    let _ = storage_webdav::fuzzing::entries(text);

    // Any text as ETags: the completion is well-formed XML that keeps them.
    let etags: Vec<(u32, String)> = text
        .split('\n')
        .take(20)
        .enumerate()
        .map(|(i, etag)| {
            // What XML 1.0 cannot carry: control characters, U+FFFE, U+FFFF.
            let clean = etag.replace(
                |c: char| (c.is_control() && c != '\t') || matches!(c, '\u{FFFE}' | '\u{FFFF}'),
                "",
            );
            (i as u32 + 1, clean)
        })
        .collect();
    let body = storage_s3::fuzzing::complete(&etags);
    let document = roxmltree::Document::parse(&body).expect("the completion is XML");
    let parsed: Vec<String> = document
        .descendants()
        .filter(|n| n.has_tag_name("ETag"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    let expected: Vec<String> = etags.into_iter().map(|(_, e)| e).collect();
    assert_eq!(parsed, expected);
});
