//! S3's XML documents: the listing of `ListObjectsV2`, the upload id of a
//! new multipart upload, the body that completes one, and error documents
//! (`<Error><Code>…</Code><Message>…</Message></Error>`), read with a real
//! XML parser (roxmltree), whatever the namespace.

use patchbay_sdk::prelude::*;
use roxmltree::{Document, Node};

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it last changed (RFC 3339, as S3 writes it).
    pub last_modified: Option<String>,
}

/// One page of `ListObjectsV2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The objects.
    pub objects: Vec<Object>,
    /// The common prefixes (sub-directories), each ending in the delimiter.
    pub prefixes: Vec<String>,
    /// The token of the next page, when the listing is truncated.
    pub next: Option<String>,
}

/// An error document: its code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    /// `NoSuchKey`, `AccessDenied`, ...
    pub code: String,
    /// The message.
    pub message: String,
}

fn parse<'t>(text: &'t str, what: &str) -> Result<Document<'t>> {
    Document::parse(text).map_err(|e| Error::provider(format!("S3 answered {what} that is not XML: {e}")))
}

fn child<'a>(node: Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(|c| c.text().unwrap_or_default().to_string())
}

/// Reads a `ListBucketResult`.
pub fn listing(body: &str) -> Result<Listing> {
    let document = parse(body, "a listing")?;
    let root = document.root_element();
    if root.tag_name().name() != "ListBucketResult" {
        return Err(Error::provider(format!(
            "S3 answered a listing with <{}>, not <ListBucketResult>",
            root.tag_name().name()
        )));
    }
    let mut listing = Listing::default();
    for node in root.children().filter(|c| c.is_element()) {
        match node.tag_name().name() {
            "Contents" => {
                let key = text(node, "Key").ok_or_else(|| Error::provider("S3 listed an object without a <Key>"))?;
                let size = text(node, "Size")
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| Error::provider(format!("S3 listed the object {key:?} without a valid <Size>")))?;
                listing.objects.push(Object {
                    key,
                    size,
                    last_modified: text(node, "LastModified"),
                });
            }
            "CommonPrefixes" => listing.prefixes.extend(text(node, "Prefix")),
            _ => {}
        }
    }
    let truncated = text(root, "IsTruncated").is_some_and(|t| t.trim() == "true");
    listing.next = text(root, "NextContinuationToken").filter(|_| truncated);
    if truncated && listing.next.is_none() {
        return Err(Error::provider(
            "S3 said the listing is truncated but gave no <NextContinuationToken>",
        ));
    }
    Ok(listing)
}

/// The `UploadId` of an `InitiateMultipartUploadResult`.
pub fn upload_id(body: &str) -> Result<String> {
    let document = parse(body, "a new multipart upload")?;
    text(document.root_element(), "UploadId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::provider("S3 started a multipart upload without an <UploadId>"))
}

/// The error document in `body`, if it is one.
pub fn error(body: &str) -> Option<S3Error> {
    let document = Document::parse(body).ok()?;
    let root = document.root_element();
    (root.tag_name().name() == "Error").then(|| S3Error {
        code: text(root, "Code").unwrap_or_default(),
        message: text(root, "Message").unwrap_or_default(),
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `CompleteMultipartUpload` body naming the uploaded parts, in order.
pub fn complete(parts: &[(u32, String)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (number, etag) in parts {
        body.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            escape(etag)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of AWS's `ListObjectsV2` example, with a delimiter.
    const LISTING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>photos/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>photos/été &amp; co.jpg</Key>
    <LastModified>2026-10-12T17:50:30.000Z</LastModified>
    <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes><Prefix>photos/2025/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>photos/2026/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;

    #[test]
    fn reads_a_listing() {
        let listing = listing(LISTING).unwrap();
        assert_eq!(
            listing.objects,
            [Object {
                key: "photos/été & co.jpg".into(),
                size: 434_234,
                last_modified: Some("2026-10-12T17:50:30.000Z".into()),
            }]
        );
        assert_eq!(listing.prefixes, ["photos/2025/", "photos/2026/"]);
        assert_eq!(
            listing.next.as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
    }

    #[test]
    fn refuses_what_is_not_a_listing() {
        assert!(listing("<html>").is_err());
        assert!(listing("<Error><Code>AccessDenied</Code></Error>").is_err());
        let no_token = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
        assert!(listing(no_token).is_err());
    }

    #[test]
    fn reads_errors_and_upload_ids() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a</Key></Error>";
        assert_eq!(
            error(body),
            Some(S3Error {
                code: "NoSuchKey".into(),
                message: "The specified key does not exist.".into()
            })
        );
        assert_eq!(error("<ListBucketResult/>"), None);
        assert_eq!(error("not xml"), None);
        let started = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>";
        assert_eq!(upload_id(started).unwrap(), "VXBsb2FkIElE");
        assert!(upload_id("<InitiateMultipartUploadResult/>").is_err());
    }

    #[test]
    fn writes_the_completion() {
        let body = complete(&[(1, "\"a1\"".into()), (2, "\"b&2\"".into())]);
        assert_eq!(
            body,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>&quot;b&amp;2&quot;</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        let parsed = Document::parse(&body).unwrap();
        assert_eq!(parsed.descendants().filter(|n| n.has_tag_name("Part")).count(), 2);
    }
}
