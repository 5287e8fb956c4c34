//! The limits of the outbound pipeline, set by the operator.

use std::time::Duration;

/// Limits of the outbound pipeline.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed from sending a request to the response's head.
    pub first_byte_timeout: Duration,
    /// Time allowed between two reads of a response body: a trickling
    /// upstream is cut off here, long before the total runs out.
    pub idle_timeout: Duration,
    /// Default total time of one request (a plugin may ask for less).
    pub request_timeout: Duration,
    /// Largest response body accepted, in bytes; enforced while reading.
    pub max_response_bytes: u64,
    /// Largest response body written into a blob
    /// ([`OutboundPolicy::send_to_blob`](crate::OutboundPolicy::send_to_blob)), in bytes.
    pub max_blob_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
    /// Whether private, loopback and link-local addresses may be reached
    /// (off by default; tests and local demos turn it on).
    pub allow_private_network: bool,
    /// Certificates (PEM) the SMTP and FTPS doors trust besides the public
    /// roots: the CA of a private mail relay or file server. HTTPS uses the
    /// public roots only.
    pub door_root_certificates: Vec<Vec<u8>>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            max_blob_bytes: 64 * 1024 * 1024 * 1024,
            max_redirects: 10,
            allow_private_network: false,
            door_root_certificates: Vec::new(),
        }
    }
}
