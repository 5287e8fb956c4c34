//! Which addresses the host may connect to, checked after DNS.
//!
//! Private, loopback, link-local (which holds the cloud metadata endpoint
//! 169.254.169.254), shared (100.64/10), unspecified, multicast and
//! documentation ranges are refused unless the operator allows private
//! networks. The check runs in the HTTP client's resolver, so a name that
//! resolves to 127.0.0.1 is refused exactly like the literal address, and it
//! runs again on every redirect hop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is refused, or `None` when it is public.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return blocked_v4(v4);
            }
            let segments = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if segments[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if segments[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
                Some("documentation")
            } else if segments[0] == 0x64 && segments[1] == 0xff9b {
                // NAT64 can reach IPv4 private space.
                blocked_v4(low_v4(segments))
            } else if segments[..6] == [0; 6] || segments[..6] == [0, 0, 0, 0, 0xffff, 0] {
                // IPv4-compatible (::a.b.c.d) and IPv4-translated
                // (::ffff:0:a.b.c.d) addresses embed an IPv4 address.
                Some("an IPv4 address embedded in IPv6")
            } else if segments[0] == 0x2002 {
                // 6to4 (deprecated) relays to whatever IPv4 address it embeds.
                Some("6to4 (2002::/16)")
            } else if segments[0] == 0x2001 && segments[1] == 0 {
                Some("Teredo (2001::/32)")
            } else if segments[0] & 0xffc0 == 0xfec0 {
                Some("site-local (fec0::/10)")
            } else if segments[..4] == [0x100, 0, 0, 0] {
                Some("discard-only (100::/64)")
            } else {
                None
            }
        }
    }
}

/// The IPv4 address in the last 32 bits of an IPv6 address.
fn low_v4(segments: [u16; 8]) -> Ipv4Addr {
    Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    )
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("the cloud metadata endpoint")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_private() {
        Some("private")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space (100.64.0.0/10)")
    } else if a == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("broadcast, multicast or reserved")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if a == 198 && (18..20).contains(&b) {
        Some("benchmarking (198.18.0.0/15)")
    } else if a == 192 && b == 0 && c == 0 {
        Some("IETF protocol assignments (192.0.0.0/24)")
    } else if ip == Ipv4Addr::new(168, 63, 129, 16) {
        Some("the Azure platform endpoint (168.63.129.16)")
    } else {
        None
    }
}

/// The error a refused address produces; the pipeline recognizes it.
#[derive(Debug)]
pub struct BlockedAddress {
    /// The name that was resolved.
    pub host: String,
    /// The refused address.
    pub ip: IpAddr,
    /// Why.
    pub reason: &'static str,
}

impl std::fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {}, a {} address; private networks are not allowed (the operator can allow them)",
            self.host, self.ip, self.reason
        )
    }
}

impl std::error::Error for BlockedAddress {}

/// Checks an address, for hosts given as IP literals.
pub fn check_ip(host: &str, ip: IpAddr, allow_private: bool) -> Result<(), BlockedAddress> {
    match blocked_reason(ip) {
        Some(reason) if !allow_private => Err(BlockedAddress {
            host: host.to_string(),
            ip,
            reason,
        }),
        _ => Ok(()),
    }
}

/// Refuses a URL whose host is a literal IP address that is blocked. The
/// HTTP client never asks the resolver about a literal address, so every
/// client of the host runs this before it sends (names are checked by
/// [`GuardedResolver`] after DNS).
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), BlockedAddress> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    check_ip(url.host_str().unwrap_or_default(), ip, allow_private)
}

/// A resolver that refuses names resolving to blocked addresses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    /// A resolver for the given policy.
    pub fn new(allow_private: bool) -> Arc<Self> {
        Arc::new(Self { allow_private })
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                check_ip(&host, addr.ip(), allow_private)
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Why a door's server has no address it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// DNS did not answer within the connect timeout.
    Timeout(String),
    /// DNS failed.
    Unresolved(String),
    /// Every address is refused by policy (or there is none).
    Blocked(String),
}

/// The first address of `host` that passes [`check_ip`], resolved within
/// `timeout`: where the SMTP and file-transfer doors connect, so that a
/// name resolving to a private address is refused like the address itself.
pub async fn checked_address(
    host: &str,
    port: u16,
    timeout: std::time::Duration,
    allow_private: bool,
) -> Result<IpAddr, Unreachable> {
    let addresses = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| Unreachable::Timeout(format!("connect timeout: no address for {host} in time")))?
        .map_err(|e| Unreachable::Unresolved(format!("cannot resolve {host}: {e}")))?;
    let mut refused = None;
    for address in addresses {
        match check_ip(host, address.ip(), allow_private) {
            Ok(()) => return Ok(address.ip()),
            Err(blocked) => refused = Some(blocked.to_string()),
        }
    }
    Err(Unreachable::Blocked(
        refused.unwrap_or_else(|| format!("{host} has no address")),
    ))
}

/// Whether an address is refused unless private networks are allowed.
pub fn is_blocked(ip: IpAddr) -> bool {
    blocked_reason(ip).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_are_blocked() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            // Security review F19: the gaps it found.
            "::127.0.0.1",
            "::a9fe:a9fe",
            "::ffff:0:7f00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::",
            "2001:0::1",
            "fec0::1",
            "100::1",
            "192.0.0.8",
            "168.63.129.16",
        ] {
            assert!(is_blocked(ip.parse().unwrap()), "{ip} should be blocked");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "172.32.0.1",
            "100.128.0.1",
            "2001:4860:4860::8888",
        ] {
            assert!(!is_blocked(ip.parse().unwrap()), "{ip} should be allowed");
        }
        assert_eq!(
            blocked_reason("169.254.169.254".parse().unwrap()),
            Some("the cloud metadata endpoint")
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_blocked_addresses_unless_allowed() {
        let name: Name = "localhost".parse().unwrap();
        let refused = match GuardedResolver::new(false).resolve(name).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("localhost must be refused"),
        };
        assert!(
            refused.contains("localhost resolves to") && refused.contains("loopback"),
            "{refused}"
        );
        let name: Name = "localhost".parse().unwrap();
        assert!(GuardedResolver::new(true).resolve(name).await.is_ok());
    }
}
