//! Patchbay storage plugin for Amazon S3 and S3-compatible object stores
//! (MinIO, Ceph, Cloudflare R2, moto). The host signs every request with
//! SigV4 from the `access_key_id` and `secret_access_key` credential fields,
//! which never enter the sandbox. Files of any size pass by reference
//! (`blob-storage`): a file larger than the part size is uploaded in parts
//! cut from the caller's blob, and a failed upload is aborted; reads are
//! written by the host into a blob. The manifest is `patchbay.toml`.

mod bucket;
mod xml;

use patchbay_sdk::blob::{self, Blob};
use patchbay_sdk::client::{Call, Client, connected};
use patchbay_sdk::http::{Method, Response};
use patchbay_sdk::prelude::*;
use patchbay_sdk::storage;

use bucket::{Bucket, query};

/// The S3 adapter.
pub struct S3;

/// S3's error document mapped to the plugin's error: missing keys, buckets
/// and uploads are `not-found`, refused credentials `auth`, throttling
/// `rate-limited`, malformed requests `validation`; any other code keeps
/// the status table's mapping, with S3's code and message.
fn s3_error(response: &Response) -> Option<Error> {
    let Some(found) = xml::error(&response.text()) else {
        // HEAD answers carry no body: the status says it all.
        return None;
    };
    let message = format!("{}: {}", found.code, found.message);
    Some(match found.code.as_str() {
        "NoSuchKey" | "NoSuchBucket" | "NoSuchUpload" => Error::NotFound(message),
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "TokenRefreshRequired"
        | "AccountProblem" => Error::Auth(message),
        "SlowDown" | "RequestLimitExceeded" => Error::RateLimited(response.retry_after()),
        "InvalidArgument" | "InvalidRange" | "EntityTooSmall" | "EntityTooLarge" | "InvalidPart"
        | "InvalidPartOrder" | "KeyTooLongError" | "InvalidBucketName" | "MalformedXML" => Error::Validation(message),
        _ => Error::from_status(response.status, message, response.retry_after()),
    })
}

/// The connection's bucket and a client that signs for it.
struct Api {
    bucket: Bucket,
    client: Client,
}

impl Api {
    fn new() -> Result<Self> {
        let bucket = Bucket::from_config()?;
        let region = bucket.region.clone();
        let client = Client::new(&bucket.base)
            .auth_with(move |request| request.aws_sigv4("s3", &region, "access_key_id", "secret_access_key"))
            .errors(s3_error);
        Ok(Self { bucket, client })
    }

    fn object(&self, method: Method, key: &str, query: &str) -> Call {
        self.client.call(method, &self.bucket.object_url(key, query))
    }

    /// A request that creates the object `key` (`PUT`, or `POST ?uploads`),
    /// with the content type of its name, as S3 will serve it back.
    fn creating(&self, method: Method, key: &str, query: &str) -> Call {
        let call = self.object(method, key, query);
        match storage::content_type(key) {
            Some(kind) => call.header("content-type", kind),
            None => call,
        }
    }

    /// `HEAD` of an object: its headers, or `None` when there is none.
    fn head(&self, key: &str) -> Result<Option<Response>> {
        match self.object(Method::Head, key, "").send() {
            Ok(response) => Ok(Some(response)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Every page of a listing under `prefix`, by `/` when `by_directory`.
    fn list(&self, prefix: &str, by_directory: bool) -> Result<xml::Listing> {
        let mut all = xml::Listing::default();
        let mut token: Option<String> = None;
        loop {
            let mut pairs = vec![("list-type", "2"), ("prefix", prefix)];
            if by_directory {
                pairs.push(("delimiter", "/"));
            }
            if let Some(token) = &token {
                pairs.push(("continuation-token", token));
            }
            let response = self.client.get(&self.bucket.bucket_url(&query(&pairs))).send()?;
            let page = xml::listing(&response.text())?;
            all.objects.extend(page.objects);
            all.prefixes.extend(page.prefixes);
            match page.next {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                Some(_) => return Err(Error::provider("S3 gave the same continuation token twice")),
                None => return Ok(all),
            }
        }
    }

    /// Uploads `content` to `key` in parts, aborting the upload when a
    /// step fails (and saying so).
    fn upload_in_parts(&self, key: &str, content: &Blob, size: u64) -> Result<()> {
        let start = self.creating(Method::Post, key, "uploads").send()?;
        let upload_id = xml::upload_id(&start.text())?;
        let id_query = query(&[("uploadId", &upload_id)]);
        let uploaded = self.send_parts(key, content, size, &upload_id).and_then(|parts| {
            let response = self
                .object(Method::Post, key, &id_query)
                .header("content-type", "application/xml")
                .body(xml::complete(&parts))
                .send()?;
            // S3 may answer 200 and report the failure in the body.
            match s3_error(&response) {
                Some(error) => Err(error),
                None => Ok(()),
            }
        });
        let Err(failure) = uploaded else {
            return Ok(());
        };
        let aborted = self.object(Method::Delete, key, &id_query).send();
        let outcome = match aborted {
            Ok(_) | Err(Error::NotFound(_)) => "the multipart upload was aborted".to_string(),
            Err(why) => format!(
                "aborting the multipart upload {upload_id} failed too ({}); its parts stay until a lifecycle rule removes them",
                why.message()
            ),
        };
        Err(failure.with_context(&outcome))
    }

    /// Sends each part of `content`; their numbers and ETags.
    fn send_parts(&self, key: &str, content: &Blob, size: u64, upload_id: &str) -> Result<Vec<(u32, String)>> {
        let part_size = self.bucket.part_size_for(size);
        let mut sent = Vec::new();
        for part in blob::parts(size, part_size) {
            let number = part.number.to_string();
            let part_query = query(&[("partNumber", &number), ("uploadId", upload_id)]);
            let slice = blob::slice(content, part.offset, part.length)?;
            let response = self.object(Method::Put, key, &part_query).send_blob(&slice)?;
            let etag = response
                .header("etag")
                .map(str::to_string)
                .ok_or_else(|| Error::provider(format!("S3 accepted part {number} without an ETag")))?;
            sent.push((part.number, etag));
        }
        Ok(sent)
    }
}

/// The size S3 reports in `Content-Length`.
fn content_length(response: &Response) -> Result<u64> {
    response
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::provider("S3 answered HEAD without a Content-Length"))
}

impl Connector for S3 {
    fn test_connection() -> Result<ConnectionTest> {
        let api = Api::new()?;
        let listing = query(&[("list-type", "2"), ("max-keys", "1")]);
        let name = api.bucket.name.clone();
        api.client
            .get(&api.bucket.bucket_url(&listing))
            .test_connection(|_| connected(format!("Connected to bucket {name}")))
    }
}

impl Storage for S3 {
    fn save(name: String, content: Vec<u8>) -> Result<String> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        api.creating(Method::Put, &key, "").body(content).send()?;
        Ok(api.bucket.relative(&key).to_string())
    }

    fn open(name: String) -> Result<Vec<u8>> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        Ok(api.object(Method::Get, &key, "").send()?.body)
    }

    fn delete(name: String) -> Result<()> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        // S3 answers 204 whether or not the key existed; a missing file is
        // not-found here, as on every other storage adapter.
        if api.head(&key)?.is_none() {
            return Err(Error::NotFound(format!("no file {name:?}")));
        }
        api.object(Method::Delete, &key, "").send()?;
        Ok(())
    }

    fn exists(name: String) -> Result<bool> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        Ok(api.head(&key)?.is_some())
    }

    fn listdir(path: String) -> Result<DirectoryListing> {
        let api = Api::new()?;
        let prefix = api.bucket.dir_prefix(&path)?;
        let listing = api.list(&prefix, true)?;
        Ok(DirectoryListing {
            directories: listing
                .prefixes
                .iter()
                .map(|p| storage::file_name(p).to_string())
                .collect(),
            files: listing
                .objects
                .iter()
                // A zero-byte `dir/` object marks a folder made in a console.
                .filter(|o| o.key != prefix)
                .map(|o| storage::file_name(&o.key).to_string())
                .collect(),
        })
    }

    fn size(name: String) -> Result<u64> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        match api.head(&key)? {
            Some(response) => content_length(&response),
            None => Err(Error::NotFound(format!("no file {name:?}"))),
        }
    }

    fn list_files(path: String) -> Result<Vec<FileInfo>> {
        let api = Api::new()?;
        let prefix = api.bucket.dir_prefix(&path)?;
        let listing = api.list(&prefix, true)?;
        let directories = listing.prefixes.iter().map(|p| {
            let path = api.bucket.relative(p.trim_end_matches('/')).to_string();
            FileInfo {
                name: storage::file_name(&path).to_string(),
                path,
                size: 0,
                content_type: None,
                modified_at: None,
                is_directory: true,
            }
        });
        let files = listing.objects.iter().filter(|o| o.key != prefix).map(|o| {
            let path = api.bucket.relative(&o.key).to_string();
            FileInfo {
                name: storage::file_name(&path).to_string(),
                content_type: storage::content_type(&path).map(str::to_string),
                path,
                size: o.size,
                modified_at: o.last_modified.clone(),
                is_directory: false,
            }
        });
        Ok(directories.chain(files).collect())
    }
}

impl BlobStorage for S3 {
    fn save_blob(name: String, content: &Blob) -> Result<String> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        let size = content.size();
        if size <= api.bucket.part_size {
            api.creating(Method::Put, &key, "").send_blob(content)?;
        } else {
            api.upload_in_parts(&key, content, size)?;
        }
        Ok(api.bucket.relative(&key).to_string())
    }

    fn open_blob(name: String) -> Result<Blob> {
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        api.object(Method::Get, &key, "").blob()
    }

    fn open_range(name: String, offset: u64, length: u64) -> Result<Blob> {
        if length == 0 {
            return Err(Error::Validation("a range of 0 bytes reads nothing".into()));
        }
        let api = Api::new()?;
        let key = api.bucket.key(&name)?;
        let last = offset.saturating_add(length - 1);
        api.object(Method::Get, &key, "")
            .header("range", format!("bytes={offset}-{last}"))
            .blob()
    }
}

patchbay_sdk::export!(S3: storage, blob_storage);

/// The XML readers and writer, for the fuzz target `storage_xml` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::xml::{complete, error, listing, upload_id};
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_sdk::types::Header;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![Header {
                name: "content-type".into(),
                value: "application/xml".into(),
            }],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn maps_s3_error_codes() {
        let error = |code: &str, status| {
            s3_error(&answer(
                status,
                &format!("<Error><Code>{code}</Code><Message>m</Message></Error>"),
            ))
            .unwrap()
        };
        assert!(matches!(error("NoSuchKey", 404), Error::NotFound(m) if m == "NoSuchKey: m"));
        assert!(matches!(error("SignatureDoesNotMatch", 403), Error::Auth(_)));
        assert!(matches!(error("SlowDown", 503), Error::RateLimited(_)));
        assert!(matches!(error("EntityTooSmall", 400), Error::Validation(_)));
        assert!(matches!(error("InternalError", 500), Error::Provider(_)));
        assert!(s3_error(&answer(404, "")).is_none());
    }
}
