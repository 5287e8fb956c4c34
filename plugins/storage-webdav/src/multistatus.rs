//! WebDAV's `207 Multi-Status` answers to `PROPFIND` (RFC 4918 §9.1, §14.16),
//! read with a real XML parser (roxmltree) by namespace (`DAV:`), whatever
//! prefix the server chose.

use patchbay_sdk::prelude::*;
use patchbay_sdk::storage;
use roxmltree::{Document, Node};

const DAV: &str = "DAV:";

/// One resource of a multistatus answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path on the server, decoded (`/dav/d/été.txt`), without a
    /// trailing `/`.
    pub path: String,
    /// Whether it is a collection (a directory).
    pub is_directory: bool,
    /// `getcontentlength`.
    pub size: Option<u64>,
    /// `getcontenttype`.
    pub content_type: Option<String>,
    /// `getlastmodified`, an HTTP date.
    pub modified: Option<String>,
}

fn dav<'a>(node: Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(DAV))
}

fn dav_all<'a>(node: Node<'a, 'a>, name: &'a str) -> impl Iterator<Item = Node<'a, 'a>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(DAV))
}

fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    node.and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The path of an `href`: an absolute path, or a URL whose path is taken;
/// decoded, without a trailing `/`.
fn href_path(href: &str) -> String {
    let path = match href.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => href,
    };
    let decoded = storage::decode(path);
    let trimmed = decoded.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Whether a `propstat`'s status line says 200.
fn ok(propstat: Node<'_, '_>) -> bool {
    text(dav(propstat, "status")).is_none_or(|status| status.split_whitespace().nth(1) == Some("200"))
}

/// The resources of a multistatus body.
pub fn entries(body: &str) -> Result<Vec<Entry>> {
    let document = Document::parse(body)
        .map_err(|e| Error::provider(format!("the WebDAV server answered PROPFIND with malformed XML: {e}")))?;
    let root = document.root_element();
    if root.tag_name().name() != "multistatus" || root.tag_name().namespace() != Some(DAV) {
        return Err(Error::provider(format!(
            "the WebDAV server answered PROPFIND with <{}>, not a DAV: multistatus",
            root.tag_name().name()
        )));
    }
    let mut entries = Vec::new();
    for response in dav_all(root, "response") {
        let href = text(dav(response, "href"))
            .ok_or_else(|| Error::provider("the WebDAV server listed a resource without an href"))?;
        let mut entry = Entry {
            path: href_path(&href),
            is_directory: false,
            size: None,
            content_type: None,
            modified: None,
        };
        for propstat in dav_all(response, "propstat").filter(|p| ok(*p)) {
            let Some(prop) = dav(propstat, "prop") else {
                continue;
            };
            if let Some(kind) = dav(prop, "resourcetype") {
                entry.is_directory |= dav(kind, "collection").is_some();
            }
            if let Some(length) = text(dav(prop, "getcontentlength")) {
                entry.size =
                    Some(length.parse().map_err(|_| {
                        Error::provider(format!("the WebDAV server gave {href:?} the length {length:?}"))
                    })?);
            }
            entry.content_type = entry.content_type.or(text(dav(prop, "getcontenttype")));
            entry.modified = entry.modified.or(text(dav(prop, "getlastmodified")));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The `PROPFIND` body asking for what a listing shows.
pub const PROPFIND: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<d:propfind xmlns:d=\"DAV:\"><d:prop><d:resourcetype/><d:getcontentlength/>\
<d:getcontenttype/><d:getlastmodified/></d:prop></d:propfind>";

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of RFC 4918's example and of what wsgidav and Nextcloud
    /// send: any prefix, a 404 propstat for what a resource lacks.
    const LISTING: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<ns0:multistatus xmlns:ns0="DAV:">
  <ns0:response>
    <ns0:href>/dav/d/</ns0:href>
    <ns0:propstat><ns0:prop><ns0:resourcetype><ns0:collection /></ns0:resourcetype>
      <ns0:getlastmodified>Wed, 02 Dec 2026 01:40:42 GMT</ns0:getlastmodified></ns0:prop>
      <ns0:status>HTTP/1.1 200 OK</ns0:status></ns0:propstat>
    <ns0:propstat><ns0:prop><ns0:getcontentlength/></ns0:prop><ns0:status>HTTP/1.1 404 Not Found</ns0:status></ns0:propstat>
  </ns0:response>
  <ns0:response>
    <ns0:href>http://127.0.0.1:8080/dav/d/%C3%A9t%C3%A9%202026.txt</ns0:href>
    <ns0:propstat><ns0:prop><ns0:resourcetype/><ns0:getcontentlength>5</ns0:getcontentlength>
      <ns0:getcontenttype>text/plain</ns0:getcontenttype></ns0:prop>
      <ns0:status>HTTP/1.1 200 OK</ns0:status></ns0:propstat>
  </ns0:response>
</ns0:multistatus>"#;

    #[test]
    fn reads_a_multistatus() {
        let entries = entries(LISTING).unwrap();
        assert_eq!(
            entries,
            [
                Entry {
                    path: "/dav/d".into(),
                    is_directory: true,
                    size: None,
                    content_type: None,
                    modified: Some("Wed, 02 Dec 2026 01:40:42 GMT".into()),
                },
                Entry {
                    path: "/dav/d/été 2026.txt".into(),
                    is_directory: false,
                    size: Some(5),
                    content_type: Some("text/plain".into()),
                    modified: None,
                },
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_multistatus() {
        assert!(entries("<html><body>login</body></html>").is_err());
        assert!(entries("<multistatus/>").is_err(), "no DAV: namespace");
        assert!(entries("not xml").is_err());
        let bad_length = LISTING.replace("<ns0:getcontentlength>5<", "<ns0:getcontentlength>five<");
        assert!(entries(&bad_length).is_err());
    }
}
